using System.IO.Pipelines;
using KmsPlugin.Server.AuthorityNormalizer;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// Client byte streams through the authority normalizer, fed in pieces whose size the input's first
/// byte picks: it always finishes, aborts only with <see cref="ConnectionAbortedException"/>, and
/// forwards byte for byte whatever it does not rewrite.
/// </summary>
internal sealed class NormalizerTarget : IFuzzTarget
{
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    public string Name => "normalizer";

    public IEnumerable<(string Name, byte[] Bytes)> Seeds() =>
    [
        ("valid-authority", [7, .. Http2Seeds.Connection("localhost")]),
        ("socket-path-authority", [13, .. Http2Seeds.Connection("/var/run/kmsplugin/kms.sock")]),
    ];

    public void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var chunk = input[0] + 1;
        var stream = input.AsMemory(1);
        var (output, rewriting, error) = RunAsync(stream, chunk).GetAwaiter().GetResult();
        if (error is not null and not ConnectionAbortedException)
        {
            throw new PropertyViolation($"aborted with {error.GetType().Name}: {error.Message}");
        }

        if (error is null && !rewriting && !output.AsSpan().SequenceEqual(stream.Span))
        {
            throw new PropertyViolation("a stream that was not rewritten was changed");
        }
    }

    private static async Task<(byte[] Output, bool Rewriting, Exception? Error)> RunAsync(ReadOnlyMemory<byte> input, int chunk)
    {
        var inbound = new Pipe(Inline);
        var outbound = new Pipe(Inline);
        Exception? aborted = null;
        using var connection = new AuthorityNormalizingConnection(inbound.Reader, outbound.Writer, KmsPlugin.Server.Hosting.PluginHost.MaxRequestHeadersTotalSize, onAbort: e => aborted = e);
        var pump = connection.RunAsync();
        var collected = new MemoryStream();
        var reader = outbound.Reader.CopyToAsync(collected);
        for (var offset = 0; offset < input.Length; offset += chunk)
        {
            await inbound.Writer.WriteAsync(input.Slice(offset, Math.Min(chunk, input.Length - offset)));
        }

        await inbound.Writer.CompleteAsync();
        await pump.WaitAsync(TimeSpan.FromSeconds(10));
        try
        {
            await reader;
        }
        catch (ConnectionAbortedException)
        {
        }

        return (collected.ToArray(), connection.IsRewriting, aborted);
    }
}
