using KmsPlugin.Core.Errors;
using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>One root key behind <see cref="FaultInjectingRootKeyProvider"/>: applies its current faults to each call.</summary>
internal sealed class FaultInjectingRootKey : IRootKey
{
    private readonly IRootKey _inner;
    private readonly FaultInjectingRootKeyProvider _owner;

    public FaultInjectingRootKey(IRootKey inner, FaultInjectingRootKeyProvider owner)
    {
        _inner = inner;
        _owner = owner;
    }

    public string Id => _inner.Id;

    public async ValueTask<byte[]> WrapAsync(ReadOnlyMemory<byte> dataKey, ReadOnlyMemory<byte> context, CancellationToken cancellationToken)
    {
        var call = _owner.Enter(wrap: true);
        try
        {
            await ApplyAsync(_owner.Faults.Wrap, call, "wrap", cancellationToken).ConfigureAwait(false);
            return await _inner.WrapAsync(dataKey, context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _owner.Leave();
        }
    }

    public async ValueTask<int> UnwrapAsync(ReadOnlyMemory<byte> wrappedKey, ReadOnlyMemory<byte> context, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var call = _owner.Enter(wrap: false);
        try
        {
            await ApplyAsync(_owner.Faults.Unwrap, call, "unwrap", cancellationToken).ConfigureAwait(false);
            return await _inner.UnwrapAsync(wrappedKey, context, destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _owner.Leave();
        }
    }

    private async Task ApplyAsync(RootKeyFault fault, long call, string operation, CancellationToken cancellationToken)
    {
        switch (fault.Mode)
        {
            case RootKeyFaultMode.Fail:
            case RootKeyFaultMode.FailEvery when call % fault.Every == 0:
                _owner.CountInjectedFailure();
                throw new KmsException(KmsErrorKind.ProviderUnavailable, $"root key provider unavailable ({operation}: injected fault)");
            case RootKeyFaultMode.Hang:
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
                break;
            case RootKeyFaultMode.Slow:
                await Task.Delay(fault.Delay, cancellationToken).ConfigureAwait(false);
                break;
        }
    }
}
