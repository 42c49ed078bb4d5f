using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace KmsPlugin.Server.AuthorityNormalizer;

/// <summary>
/// Reads the connection's input; while bytes are held that the server has not seen (an incomplete
/// header block or a partial frame), waits for more only until the header-block timeout runs out,
/// then aborts the connection.
/// </summary>
internal sealed class HeaderBlockTimeoutReader
{
    private readonly PipeReader _input;
    private readonly TimeSpan _timeout;
    private long _heldSince;

    public HeaderBlockTimeoutReader(PipeReader input, TimeSpan timeout)
    {
        _input = input;
        _timeout = timeout;
    }

    public ValueTask<ReadResult> ReadAsync() =>
        _heldSince == 0 ? _input.ReadAsync() : new ValueTask<ReadResult>(ReadWhileHoldingAsync());

    /// <summary>Says whether bytes are held after a read; the timeout runs from the first read that left some.</summary>
    public void SetHolding(bool holding) =>
        _heldSince = !holding ? 0 : _heldSince == 0 ? Stopwatch.GetTimestamp() : _heldSince;

    private async Task<ReadResult> ReadWhileHoldingAsync()
    {
        var remaining = _timeout - Stopwatch.GetElapsedTime(_heldSince);
        using var timeout = new CancellationTokenSource(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero);
        try
        {
            return await _input.ReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new ConnectionAbortedException(
                $"HTTP/2 header block still incomplete after {_timeout.TotalSeconds:0.#} s; closing the connection.");
        }
    }
}
