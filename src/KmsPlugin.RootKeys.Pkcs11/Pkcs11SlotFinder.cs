using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>Finds a token's slot by label (and serial).</summary>
internal static class Pkcs11SlotFinder
{
    /// <summary>The slot whose token has this label (and serial), or null.</summary>
    public static ISlot? Find(IPkcs11Library library, string tokenLabel, string? tokenSerial)
    {
        foreach (var candidate in library.GetSlotList(SlotsType.WithTokenPresent))
        {
            ITokenInfo info;
            try
            {
                info = candidate.GetTokenInfo();
            }
            catch (Pkcs11Exception)
            {
                continue;
            }

            if (info.Label.Trim() == tokenLabel && (tokenSerial is null || info.SerialNumber.Trim() == tokenSerial))
            {
                return candidate;
            }
        }

        return null;
    }
}
