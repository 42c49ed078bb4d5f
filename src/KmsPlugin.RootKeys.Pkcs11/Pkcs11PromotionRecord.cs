using System.Text;
using System.Text.Json;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// The token's record of promotions: one private token <c>CKO_DATA</c> object
/// (<c>CKA_APPLICATION</c> "kms-plugin", <c>CKA_LABEL</c> "kms-plugin-promotions") whose
/// <c>CKA_VALUE</c> is <c>{"primaries":["a","b","a"]}</c>, the promoted primary labels in order.
/// Its length is the promotion generation, so KMS v2 key ids change on every promotion and never
/// repeat, even for A→B→A. Only <c>pkcs11 keygen --primary</c> and <c>pkcs11 promote</c> write it.
/// </summary>
internal static class Pkcs11PromotionRecord
{
    public const string Application = "kms-plugin";
    public const string Label = "kms-plugin-promotions";

    /// <summary>The promoted labels in order, or null when the token has no record.</summary>
    public static IReadOnlyList<string>? Read(ISession session, string tokenLabel)
    {
        var records = ReadAll(session, tokenLabel);
        return records.Count == 0 ? null : records.MaxBy(r => r.Entries.Count).Entries;
    }

    /// <summary>
    /// Appends <paramref name="label"/> (needs a read/write, logged-in session); returns the new list.
    /// Tokens (SoftHSM among them) may refuse to change CKA_VALUE, so the new record is created
    /// first and the old one destroyed after: a crash in between leaves two records, and readers
    /// take the longer one, which is the newer.
    /// </summary>
    public static IReadOnlyList<string> Append(ISession session, string tokenLabel, string label)
    {
        var existing = ReadAll(session, tokenLabel);
        var entries = existing.Count == 0 ? [] : existing.MaxBy(r => r.Entries.Count).Entries.ToList();
        entries.Add(label);
        var attributes = session.Factories.ObjectAttributeFactory;
        session.CreateObject(
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_DATA),
            attributes.Create(CKA.CKA_TOKEN, true),
            attributes.Create(CKA.CKA_PRIVATE, true),
            attributes.Create(CKA.CKA_APPLICATION, Application),
            attributes.Create(CKA.CKA_LABEL, Label),
            attributes.Create(CKA.CKA_VALUE, Serialize(entries)),
        ]);
        foreach (var (handle, _) in existing)
        {
            session.DestroyObject(handle);
        }

        return entries;
    }

    public static byte[] Serialize(IReadOnlyList<string> entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("primaries");
            foreach (var entry in entries)
            {
                writer.WriteStringValue(entry);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static IReadOnlyList<string> Parse(byte[] value, string tokenLabel)
    {
        try
        {
            using var document = JsonDocument.Parse(value);
            var list = new List<string>();
            foreach (var entry in document.RootElement.GetProperty("primaries").EnumerateArray())
            {
                var label = entry.GetString();
                if (!Pkcs11KeyLabel.IsValid(label))
                {
                    throw new FormatException();
                }

                list.Add(label!);
            }

            return list;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or KeyNotFoundException or InvalidOperationException or DecoderFallbackException)
        {
            throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable,
                $"the promotion record \"{Label}\" on token \"{tokenLabel}\" is not readable; it was not written by kms-plugin"));
        }
    }

    private static List<(IObjectHandle Handle, IReadOnlyList<string> Entries)> ReadAll(ISession session, string tokenLabel)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        var found = session.FindAllObjects(
        [
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_DATA),
            attributes.Create(CKA.CKA_APPLICATION, Application),
            attributes.Create(CKA.CKA_LABEL, Label),
        ]);
        return found
            .Select(h => (h, Parse(session.GetAttributeValue(h, [CKA.CKA_VALUE])[0].GetValueAsByteArray() ?? [], tokenLabel)))
            .ToList();
    }
}
