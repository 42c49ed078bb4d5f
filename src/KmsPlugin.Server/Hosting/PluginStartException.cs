namespace KmsPlugin.Server.Hosting;

/// <summary>
/// The plugin cannot start because of how it was set up (socket path, health address): the
/// message is one line for the operator, naming what is wrong and the setting that fixes it.
/// `serve` prints it without a stack trace and exits 2.
/// </summary>
internal sealed class PluginStartException : InvalidOperationException
{
    public PluginStartException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}
