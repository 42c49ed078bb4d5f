namespace KmsPlugin.EtcdValues;

/// <summary>
/// The one exception this library throws for bad etcd values, whatever is wrong with them. The
/// message names the problem and never carries plaintext or key bytes.
/// </summary>
internal sealed class EtcdValueException : Exception
{
    public EtcdValueException(EtcdValueError error, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
    }

    public EtcdValueError Error { get; }

    public static EtcdValueException Malformed(string reason) => new(EtcdValueError.Malformed, $"etcd value malformed: {reason}");

    public static EtcdValueException Invalid(string reason) => new(EtcdValueError.Invalid, $"etcd value invalid: {reason}");

    public static EtcdValueException AuthenticationFailed(string reason, Exception? inner = null) =>
        new(EtcdValueError.AuthenticationFailed, $"etcd value does not open: {reason}", inner);
}
