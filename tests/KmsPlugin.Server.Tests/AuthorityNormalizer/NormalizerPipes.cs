using System.IO.Pipelines;
using KmsPlugin.Server.AuthorityNormalizer;
using KmsPlugin.Server.Hosting;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Server.Tests.AuthorityNormalizer;

/// <summary>Runs the byte-stream rewriter on in-memory pipes, the input fed in pieces of <c>chunk</c> bytes.</summary>
internal static class NormalizerPipes
{
    // Continuations run inline rather than on the thread pool: the property test runs this 100,000 times.
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    public static async Task<(byte[] Output, bool Rewriting, Exception? Error)> RunAsync(byte[] input, int chunk)
    {
        var inbound = new Pipe(Inline);
        var outbound = new Pipe(Inline);
        Exception? aborted = null;
        var rewrote = false;
        using var connection = new AuthorityNormalizingConnection(inbound.Reader, outbound.Writer, PluginHost.MaxRequestHeadersTotalSize,
            onRewriteStarted: _ => rewrote = true, onAbort: e => aborted = e);
        Task pump = connection.RunAsync();
        Task<byte[]> reader = ReadAllAsync(outbound.Reader);

        for (int offset = 0; offset < input.Length; offset += chunk)
        {
            await inbound.Writer.WriteAsync(input.AsMemory(offset, Math.Min(chunk, input.Length - offset)));
        }

        await inbound.Writer.CompleteAsync();
        await pump.WaitAsync(TimeSpan.FromSeconds(10));
        byte[] output;
        try
        {
            output = await reader;
        }
        catch (ConnectionAbortedException)
        {
            output = [];
        }

        // A connection refused after it started rewriting is no longer in rewrite mode, but its bytes were rewritten.
        return (output, connection.IsRewriting || rewrote, aborted);
    }

    private static async Task<byte[]> ReadAllAsync(PipeReader reader)
    {
        var all = new MemoryStream();
        await reader.CopyToAsync(all);
        await reader.CompleteAsync();
        return all.ToArray();
    }
}
