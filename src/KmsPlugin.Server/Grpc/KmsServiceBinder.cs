using Google.Protobuf;
using Grpc.Core;
using V1 = KmsPlugin.Protocol.V1Beta1;
using V2 = KmsPlugin.Protocol.V2;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// Binds the KMS services with the generated wire names but request parsers of our own: a request
/// that is not valid protobuf (a string field that is not UTF-8, say) is InvalidArgument with a
/// message, where the generated binding would answer Unknown "Exception was thrown by handler".
/// </summary>
internal static class KmsServiceBinder
{
    private const string V1Service = "v1beta1.KeyManagementService";
    private const string V2Service = "v2.KeyManagementService";

    public static void BindV1(ServiceBinderBase binder, V1.KeyManagementService.KeyManagementServiceBase? service)
    {
        binder.AddMethod(Unary<V1.VersionRequest, V1.VersionResponse>(V1Service, "Version", V1.VersionRequest.Parser), service is null ? null : service.Version);
        binder.AddMethod(Unary<V1.DecryptRequest, V1.DecryptResponse>(V1Service, "Decrypt", V1.DecryptRequest.Parser), service is null ? null : service.Decrypt);
        binder.AddMethod(Unary<V1.EncryptRequest, V1.EncryptResponse>(V1Service, "Encrypt", V1.EncryptRequest.Parser), service is null ? null : service.Encrypt);
    }

    public static void BindV2(ServiceBinderBase binder, V2.KeyManagementService.KeyManagementServiceBase? service)
    {
        binder.AddMethod(Unary<V2.StatusRequest, V2.StatusResponse>(V2Service, "Status", V2.StatusRequest.Parser), service is null ? null : service.Status);
        binder.AddMethod(Unary<V2.DecryptRequest, V2.DecryptResponse>(V2Service, "Decrypt", V2.DecryptRequest.Parser), service is null ? null : service.Decrypt);
        binder.AddMethod(Unary<V2.EncryptRequest, V2.EncryptResponse>(V2Service, "Encrypt", V2.EncryptRequest.Parser), service is null ? null : service.Encrypt);
    }

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string service, string name, MessageParser<TRequest> parser)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, service, name, Marshallers.Create(Serialize, context => Parse(parser, context)), Marshallers.Create<TResponse>(Serialize, _ => throw new NotSupportedException()));

    private static void Serialize<T>(T message, SerializationContext context)
        where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }

    private static T Parse<T>(MessageParser<T> parser, DeserializationContext context)
        where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(context.PayloadAsReadOnlySequence());
        }
        catch (InvalidProtocolBufferException)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "request is not a valid protobuf message (string fields must be UTF-8)"));
        }
    }
}
