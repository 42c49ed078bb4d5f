using Grpc.Core;
using KmsPlugin.Core.Errors;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// The one place where errors become gRPC statuses. Only <see cref="KmsException"/> messages
/// (written for callers) leave the process; anything else is logged with an id the caller gets.
/// </summary>
internal static partial class KmsErrorMapping
{
    public static StatusCode ToStatusCode(KmsErrorKind kind) => kind switch
    {
        KmsErrorKind.InvalidCiphertext => StatusCode.InvalidArgument,
        KmsErrorKind.KeyUnavailable => StatusCode.FailedPrecondition,
        KmsErrorKind.ProviderUnavailable => StatusCode.Unavailable,
        KmsErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    /// <summary>What the caller gets for <paramref name="exception"/>: the exception itself when it already is an <see cref="RpcException"/>.</summary>
    public static RpcException ToRpcException(Exception exception, ServerCallContext context, ILogger logger)
    {
        switch (exception)
        {
            case RpcException rpc:
                return rpc;
            case KmsException kms:
                LogRejected(logger, context.Method, kms.Kind, kms.Message);
                return new RpcException(new Status(ToStatusCode(kms.Kind), kms.Message));
            case OperationCanceledException when context.CancellationToken.IsCancellationRequested:
                var deadlinePassed = context.Deadline <= DateTime.UtcNow;
                LogCancelled(logger, context.Method, deadlinePassed);
                return new RpcException(deadlinePassed
                    ? new Status(StatusCode.DeadlineExceeded, "deadline exceeded")
                    : new Status(StatusCode.Cancelled, "call cancelled by the client"));
            default:
                var id = Guid.NewGuid().ToString("N")[..12];
                LogFailed(logger, exception, context.Method, id);
                return new RpcException(new Status(StatusCode.Internal, $"internal error (see plugin log, id {id})"));
        }
    }

    [LoggerMessage(EventId = LogEvents.CallRejected, EventName = nameof(LogEvents.CallRejected), Level = LogLevel.Warning, Message = "{Method} rejected ({Kind}): {Reason}")]
    private static partial void LogRejected(ILogger logger, string method, KmsErrorKind kind, string reason);

    [LoggerMessage(EventId = LogEvents.CallCancelled, EventName = nameof(LogEvents.CallCancelled), Level = LogLevel.Warning, Message = "{Method} cancelled (deadline passed: {DeadlinePassed})")]
    private static partial void LogCancelled(ILogger logger, string method, bool deadlinePassed);

    // Exception details go to our log only; the type and stack name no secret, since secrets
    // never reach exception messages in this code base.
    [LoggerMessage(EventId = LogEvents.CallFailed, EventName = nameof(LogEvents.CallFailed), Level = LogLevel.Error, Message = "{Method} failed, error id {ErrorId}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string errorId);
}
