using System.Diagnostics;
using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// Callers that run v2 Encrypt then Decrypt back to back against a plugin until stopped, as
/// kube-apiserver writing and reading Secrets, checking every plaintext and the key_id it got.
/// </summary>
internal sealed class CallerLoad : IDisposable
{
    private readonly PluginProcess _plugin;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _callers;
    private readonly List<string> _failures = [];
    private readonly HashSet<string> _keyIds = [];
    private long _calls;
    private int _wrong;
    private int _oldKeyAfterSwitch;
    private string? _switchedTo;
    private TimeSpan _switchedAt = TimeSpan.MaxValue;

    public CallerLoad(PluginProcess plugin, int callers)
    {
        _plugin = plugin;
        _callers = Enumerable.Range(0, callers).Select(i => Task.Run(() => RunAsync(i))).ToArray();
    }

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    /// <summary>Encrypt+Decrypt round trips that succeeded.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    public async Task WaitForCallsAsync(long calls)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (Calls < calls)
        {
            Assert.True(DateTime.UtcNow < deadline, $"only {Calls} round trips; failures: {string.Join("; ", Snapshot().Failures.Take(3))}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits for the first Encrypt answered with <paramref name="keyId"/> and returns when (on
    /// <see cref="Clock"/>). From then on, any Encrypt that starts later answering another key id is counted.
    /// </summary>
    public async Task<TimeSpan> WaitForKeyIdAsync(string keyId, TimeSpan within)
    {
        lock (_keyIds)
        {
            _switchedTo = keyId;
        }

        var deadline = Clock.Elapsed + within;
        while (true)
        {
            lock (_keyIds)
            {
                if (_switchedAt != TimeSpan.MaxValue)
                {
                    return _switchedAt;
                }
            }

            Assert.True(Clock.Elapsed < deadline, $"no Encrypt answered with {keyId} within {within}:\n{_plugin.Log}");
            await Task.Delay(20);
        }
    }

    public async Task<CallerLoadSummary> StopAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_callers);
        return Snapshot();
    }

    public void Dispose()
    {
        _stop.Cancel();
        Task.WaitAll(_callers, TimeSpan.FromSeconds(30));
        _stop.Dispose();
    }

    private CallerLoadSummary Snapshot()
    {
        lock (_keyIds)
        {
            return new CallerLoadSummary(Calls, [.. _failures], Volatile.Read(ref _wrong), Volatile.Read(ref _oldKeyAfterSwitch), new HashSet<string>(_keyIds));
        }
    }

    private async Task RunAsync(int caller)
    {
        var call = 0;
        while (!_stop.IsCancellationRequested)
        {
            var plain = RandomNumberGenerator.GetBytes(32);
            var uid = $"caller-{caller}-{call++}";
            var started = Clock.Elapsed;
            try
            {
                var deadline = DateTime.UtcNow.AddSeconds(30);
                var encrypted = await _plugin.V2.EncryptAsync(new EncryptRequest { Plaintext = ByteString.CopyFrom(plain), Uid = uid }, deadline: deadline);
                Observe(encrypted.KeyId, started);
                var decrypted = await _plugin.V2.DecryptAsync(new DecryptRequest { Ciphertext = encrypted.Ciphertext, KeyId = encrypted.KeyId, Uid = uid }, deadline: deadline);
                if (!decrypted.Plaintext.Span.SequenceEqual(plain))
                {
                    Interlocked.Increment(ref _wrong);
                }

                Interlocked.Increment(ref _calls);
            }
            catch (RpcException ex)
            {
                lock (_keyIds)
                {
                    _failures.Add($"{uid}: {ex.Status}");
                }
            }
        }
    }

    private void Observe(string keyId, TimeSpan started)
    {
        lock (_keyIds)
        {
            _keyIds.Add(keyId);
            if (_switchedTo is null)
            {
                return;
            }

            if (keyId == _switchedTo)
            {
                if (_switchedAt == TimeSpan.MaxValue)
                {
                    _switchedAt = Clock.Elapsed;
                }
            }
            else if (started > _switchedAt)
            {
                Interlocked.Increment(ref _oldKeyAfterSwitch);
            }
        }
    }
}
