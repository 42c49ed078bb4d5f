namespace KmsPlugin.Server.Hosting;

/// <summary>The plugin's log: one line per event, UTC timestamps, our scopes, framework noise filtered.</summary>
internal static class PluginHostLogging
{
    public static void Configure(ILoggingBuilder logging, PluginHostOptions options, Action<ILoggingBuilder>? configureLogging)
    {
        logging.ClearProviders();

        // Filters read the switch on every call, so a config reload changes the level at once.
        var levels = options.LogLevelSwitch ?? new LogLevelSwitch(options.LogLevel);
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter((_, level) => level >= levels.Level);
        logging.AddFilter("Microsoft.AspNetCore", level => level >= LogLevel.Warning && level >= levels.Level);
        logging.AddFilter("Microsoft.Hosting", level => level >= LogLevel.Warning && level >= levels.Level);
        logging.AddFilter("Grpc", level => level >= LogLevel.Warning && level >= levels.Level);

        // Our own scope (method, uid) is what an operator needs; the per-request hosting scope and
        // trace ids are noise on a unix socket.
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        logging.Configure(factory => factory.ActivityTrackingOptions = ActivityTrackingOptions.None);
        if (configureLogging is null)
        {
            logging.AddSimpleConsole(console =>
            {
                console.SingleLine = true;
                console.IncludeScopes = true;
                console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                console.UseUtcTimestamp = true;
            });
        }
        else
        {
            configureLogging(logging);
        }
    }
}
