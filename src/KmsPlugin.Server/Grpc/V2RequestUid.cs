using KmsPlugin.Server.Grpc;

namespace KmsPlugin.Protocol.V2;

public sealed partial class EncryptRequest : IHasRequestUid;

public sealed partial class DecryptRequest : IHasRequestUid;
