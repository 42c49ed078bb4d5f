using System.Text;
using Google.Protobuf;

namespace KmsPlugin.Server.Etcd;

/// <summary>
/// A demo Secret as kube-apiserver stores it before encryption: the `k8s\0` magic, then a
/// runtime.Unknown holding a v1 Secret in protobuf (k8s.io/api core/v1 generated.proto field
/// numbers; fields kube-apiserver would write empty are left out, which its decoder reads the same).
/// Its data is made-up demo text, labelled so a rewrite only ever touches samples.
/// </summary>
internal static class SampleSecret
{
    public const string Label = "kms-plugin.io/sample";

    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    public static byte[] Create(string @namespace, string name, DateTimeOffset created)
    {
        var metadata = Message(m =>
        {
            m.WriteString(1, name);
            m.WriteString(3, @namespace);
            m.WriteString(5, Guid.NewGuid().ToString());
            m.WriteMessage(8, Message(t => t.WriteInt64(1, created.ToUnixTimeSeconds())));
            m.WriteMessage(11, Message(e => e.WriteString(1, Label).WriteString(2, "true")));
        });
        var secret = Message(s =>
        {
            s.WriteMessage(1, metadata);
            s.WriteMessage(2, Message(e => e.WriteString(1, "username").WriteBytes(2, Encoding.UTF8.GetBytes($"demo-user-{name}"))));
            s.WriteMessage(2, Message(e => e.WriteString(1, "password").WriteBytes(2, Encoding.UTF8.GetBytes($"not-a-real-password-{name}"))));
            s.WriteString(3, "Opaque");
        });
        var unknown = Message(u =>
        {
            u.WriteMessage(1, Message(t => t.WriteString(1, "v1").WriteString(2, "Secret")));
            u.WriteBytes(2, secret);
            u.WriteString(3, "");
            u.WriteString(4, "");
        });
        return [.. Magic, .. unknown];
    }

    /// <summary>Whether a decrypted value is one of these samples (kube-apiserver's encoding, the sample label).</summary>
    public static bool IsSample(ReadOnlySpan<byte> plaintext) =>
        plaintext.StartsWith(Magic) && plaintext.IndexOf(Encoding.UTF8.GetBytes(Label)) >= 0;

    private static byte[] Message(Action<ProtoWriter> write)
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        write(new ProtoWriter(output));
        output.Flush();
        return buffer.ToArray();
    }

    private readonly struct ProtoWriter(CodedOutputStream output)
    {
        public ProtoWriter WriteString(int field, string value) => WriteBytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter WriteMessage(int field, byte[] message) => WriteBytes(field, message);

        public ProtoWriter WriteBytes(int field, byte[] value)
        {
            output.WriteTag(field, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(value));
            return this;
        }

        public ProtoWriter WriteInt64(int field, long value)
        {
            output.WriteTag(field, WireFormat.WireType.Varint);
            output.WriteInt64(value);
            return this;
        }
    }
}
