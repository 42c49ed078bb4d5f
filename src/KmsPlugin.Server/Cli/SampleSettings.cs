namespace KmsPlugin.Server.Cli;

/// <summary>What `etcd write-samples` was asked to write.</summary>
internal sealed record SampleSettings(string Api, string V1Name, string V2Name, int Count, bool Force, bool Rewrite)
{
    public IEnumerable<(bool V2, string Provider)> Apis()
    {
        if (Api is "v1" or "both")
        {
            yield return (false, V1Name);
        }

        if (Api is "v2" or "both")
        {
            yield return (true, V2Name);
        }
    }
}
