namespace KmsPlugin.Server.Grpc;

/// <summary>A KMS v2 request carrying kube-apiserver's per-request uid (for log correlation only).</summary>
internal interface IHasRequestUid
{
    string Uid { get; }
}
