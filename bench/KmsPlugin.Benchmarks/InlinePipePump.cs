using System.Buffers;
using System.IO.Pipelines;

namespace KmsPlugin.Benchmarks;

/// <summary>
/// An input pipe, an output pipe and a pump between them, all on the calling thread: writing to the
/// input runs the pump inline, so one <see cref="Send"/> measures one pass through the pump.
/// </summary>
internal sealed class InlinePipePump : IDisposable
{
    private static readonly PipeOptions Inline = new(
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0,
        useSynchronizationContext: false);

    private readonly Pipe _input = new(Inline);
    private readonly Pipe _output = new(Inline);
    private readonly Task _pump;

    public InlinePipePump(Func<PipeReader, PipeWriter, Task> pump)
    {
        _pump = pump(_input.Reader, _output.Writer);
    }

    /// <returns>How many bytes came out of the pump.</returns>
    public long Send(ReadOnlySpan<byte> bytes)
    {
        _input.Writer.Write(bytes);
        var flush = _input.Writer.FlushAsync();
        if (!flush.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("the pump did not run inline");
        }

        if (!_output.Reader.TryRead(out var result))
        {
            return 0;
        }

        var length = result.Buffer.Length;
        _output.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }

    public void Dispose()
    {
        _input.Writer.Complete();
        _output.Reader.Complete();
        _pump.GetAwaiter().GetResult();
    }
}
