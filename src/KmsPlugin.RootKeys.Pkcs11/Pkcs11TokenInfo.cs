namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>A token as `pkcs11 list` shows it.</summary>
internal sealed record Pkcs11TokenInfo(ulong SlotId, string Label, string SerialNumber, string Manufacturer, string Model);
