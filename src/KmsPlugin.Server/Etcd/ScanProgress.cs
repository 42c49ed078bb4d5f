namespace KmsPlugin.Server.Etcd;

/// <summary>A bar on a terminal; a plain line every tenth of the way otherwise (logs, CI).</summary>
internal sealed class ScanProgress : IProgress<long>
{
    private readonly TextWriter _output;
    private readonly long _total;
    private readonly bool _terminal;
    private long _lastShown;

    public ScanProgress(TextWriter output, long total, bool terminal)
    {
        _output = output;
        _total = Math.Max(total, 1);
        _terminal = terminal;
    }

    public void Report(long value)
    {
        var step = _terminal ? Math.Max(_total / 200, 1) : Math.Max(_total / 10, 1);
        if (value - _lastShown < step && value != _total)
        {
            return;
        }

        _lastShown = value;
        if (_terminal)
        {
            var filled = (int)(40 * Math.Min(value, _total) / _total);
            _output.Write($"\r[{new string('#', filled)}{new string('.', 40 - filled)}] {value}/{_total}");
            if (value >= _total)
            {
                _output.WriteLine();
            }
        }
        else
        {
            _output.WriteLine($"scanned {value} of {_total}");
        }
    }
}
