using Grpc.Core;
using Grpc.Core.Interceptors;
using KmsPlugin.Core.Errors;
using KmsPlugin.Server.Observability;

namespace KmsPlugin.Server.Grpc;

/// <summary>
/// The one place where errors become gRPC statuses. Only <see cref="KmsException"/> messages
/// (written for callers) leave the process; anything else is logged with an id the caller gets.
/// </summary>
internal sealed partial class KmsErrorInterceptor : Interceptor
{
    private readonly ILogger<KmsErrorInterceptor> _logger;

    public KmsErrorInterceptor(ILogger<KmsErrorInterceptor> logger)
    {
        _logger = logger;
    }

    public static StatusCode ToStatusCode(KmsErrorKind kind) => kind switch
    {
        KmsErrorKind.InvalidCiphertext => StatusCode.InvalidArgument,
        KmsErrorKind.KeyUnavailable => StatusCode.FailedPrecondition,
        KmsErrorKind.ProviderUnavailable => StatusCode.Unavailable,
        KmsErrorKind.DeadlineExceeded => StatusCode.DeadlineExceeded,
        _ => StatusCode.Internal,
    };

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request,
        ServerCallContext context,
        UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context).ConfigureAwait(false);
        }
        catch (KmsException ex)
        {
            LogRejected(_logger, context.Method, ex.Kind, ex.Message);
            throw new RpcException(new Status(ToStatusCode(ex.Kind), ex.Message));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            var deadlinePassed = context.Deadline <= DateTime.UtcNow;
            LogCancelled(_logger, context.Method, deadlinePassed);
            throw new RpcException(deadlinePassed
                ? new Status(StatusCode.DeadlineExceeded, "deadline exceeded")
                : new Status(StatusCode.Cancelled, "call cancelled by the client"));
        }
        catch (RpcException)
        {
            throw;
        }
        catch (Exception ex)
        {
            var id = Guid.NewGuid().ToString("N")[..12];
            LogFailed(_logger, ex, context.Method, id);
            throw new RpcException(new Status(StatusCode.Internal, $"internal error (see plugin log, id {id})"));
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
