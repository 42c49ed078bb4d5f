namespace KmsPlugin.Server.Observability;

/// <summary>
/// Every event the plugin logs, by id: the one list that docs/troubleshooting.md, alerts and
/// operators' log filters refer to. An id is never reused for another event; ranges group them
/// by concern. Each [LoggerMessage] names its event from here.
/// </summary>
internal static class LogEvents
{
    // 1–9: start-up, provider warnings at start, shutdown
    public const int Serving = 1;
    public const int Stopped = 2;
    public const int DevelopmentMode = 3;
    public const int RootKeysUnavailableAtStart = 4;
    public const int RootKeyRefused = 5;
    public const int Draining = 6;
    public const int SocketNotOurs = 7;
    public const int SocketNotRemoved = 8;

    // 10–19: KMS calls
    public const int CallRejected = 10;
    public const int CallCancelled = 11;
    public const int CallFailed = 12;

    // 20–29: the root-key health check
    public const int RootKeyHealthy = 20;
    public const int RootKeyUnhealthy = 21;
    public const int PrimaryRootKeyChanged = 22;
    public const int HealthCheckFailed = 23;
    public const int PrimaryRootKeyExpiresSoon = 24;

    // 30–39: reloads
    public const int RootKeysReloaded = 30;
    public const int RootKeyReloadFailed = 31;
    public const int ReloadSignal = 32;
    public const int ReloadThrew = 33;
    public const int ConfigurationReloadRejected = 34;
    public const int LogLevelChanged = 35;
    public const int SettingNeedsRestart = 36;
    public const int FileWatchPolling = 37;

    // 40–49: the :authority normalizer (Debug)
    public const int AuthorityRewriteStarted = 40;
    public const int AuthorityNormalizerAborted = 41;
    public const int HeaderBlockRefused = 42;

    // 90–99: fault drills
    public const int FaultInjectionOn = 90;
    public const int FaultsChanged = 91;
    public const int FaultsFileRejected = 92;
}
