using KmsPlugin.LoadGen.Transport;

namespace KmsPlugin.LoadGen.Load;

/// <summary>One load run against one server; every concurrency level in it shares the connections.</summary>
internal sealed record LoadSettings(
    string Socket,
    string Target,
    string Api,
    OperationMix Mix,
    int Size,
    IReadOnlyList<int> Concurrency,
    int Connections,
    TimeSpan Duration,
    TimeSpan Warmup,
    AuthorityMode Authority,
    TimeSpan Timeout,
    int? ServerPid);
