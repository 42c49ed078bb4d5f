using System.Security.Cryptography;
using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// Key management on a token for the `pkcs11` CLI verbs: generate root keys, promote one, list.
/// Holds one read/write, logged-in session. Nothing here deletes a key.
/// </summary>
internal sealed class Pkcs11TokenAdmin : IDisposable
{
    public const int KeySize = 32;

    private readonly ISession _session;
    private readonly ISlot _slot;

    private readonly Pkcs11Module _module;
    private readonly int _generation;

    private Pkcs11TokenAdmin(Pkcs11Module module, ISlot slot, ISession session, string tokenLabel)
    {
        _module = module;
        _generation = module.Generation;
        _slot = slot;
        _session = session;
        TokenLabel = tokenLabel;
    }

    public string TokenLabel { get; }

    /// <summary>Every token present in the module's slots.</summary>
    public static IReadOnlyList<Pkcs11TokenInfo> ListTokens(string modulePath)
    {
        var _module = Pkcs11Module.Load(modulePath);
        _module.EnterCall();
        try
        {
            return _module.Library.GetSlotList(SlotsType.WithTokenPresent)
                .Select(s => (Slot: s, Info: s.GetTokenInfo()))
                .Select(t => new Pkcs11TokenInfo(t.Slot.SlotId, t.Info.Label.Trim(), t.Info.SerialNumber.Trim(), t.Info.ManufacturerId.Trim(), t.Info.Model.Trim()))
                .ToList();
        }
        catch (Pkcs11Exception ex)
        {
            throw new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 C_GetSlotList failed: {ex.RV}", ex);
        }
        finally
        {
            _module.ExitCall();
        }
    }

    /// <summary>Opens a read/write session on the token and logs in with <paramref name="pin"/> (the caller zeroes it).</summary>
    public static Pkcs11TokenAdmin Open(string modulePath, string tokenLabel, string? tokenSerial, byte[] pin)
    {
        var _module = Pkcs11Module.Load(modulePath);
        var found = FindSlot(_module, tokenLabel, tokenSerial);
        if (found is null && _module.TryReinitialize())
        {
            found = FindSlot(_module, tokenLabel, tokenSerial);
        }

        if (found is null)
        {
            throw Pkcs11Errors.TokenNotFound(tokenLabel);
        }

        _module.EnterCall();
        try
        {
            ISession opened;
            try
            {
                opened = found.OpenSession(SessionType.ReadWrite);
            }
            catch (Pkcs11Exception ex)
            {
                throw Pkcs11Errors.Failed(tokenLabel, "C_OpenSession", ex.RV, ex);
            }

            try
            {
                opened.Login(CKU.CKU_USER, pin);
            }
            catch (Pkcs11Exception ex) when (ex.RV == CKR.CKR_USER_ALREADY_LOGGED_IN)
            {
            }
            catch (Pkcs11Exception ex)
            {
                try
                {
                    opened.Dispose();
                }
                catch (Pkcs11Exception)
                {
                }

                throw Pkcs11Errors.IsWrongPin(ex.RV) ? Pkcs11Errors.WrongPin(tokenLabel)
                    : ex.RV == CKR.CKR_PIN_LOCKED ? Pkcs11Errors.PinLocked(tokenLabel)
                    : Pkcs11Errors.Failed(tokenLabel, "C_Login", ex.RV, ex);
            }

            return new Pkcs11TokenAdmin(_module, found, opened, tokenLabel);
        }
        finally
        {
            _module.ExitCall();
        }
    }

    private static ISlot? FindSlot(Pkcs11Module module, string tokenLabel, string? tokenSerial)
    {
        module.EnterCall();
        try
        {
            return Pkcs11SlotFinder.Find(module.Library, tokenLabel, tokenSerial);
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Failed(tokenLabel, "C_GetSlotList", ex.RV, ex);
        }
        finally
        {
            module.ExitCall();
        }
    }

    /// <summary>
    /// Generates a non-extractable, sensitive AES-256 token key for C_Encrypt/C_Decrypt with a random
    /// <c>CKA_ID</c>. Refuses a label that an AES key on the token already has. With
    /// <paramref name="primary"/> the label is appended to the promotion record as well.
    /// </summary>
    public Pkcs11KeyInfo GenerateKey(string label, bool primary)
    {
        if (!Pkcs11KeyLabel.IsValid(label))
        {
            throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, Pkcs11KeyLabel.Describe(label)));
        }

        return Call("C_GenerateKey", () =>
        {
            var mechanisms = _slot.GetMechanismList();
            foreach (var needed in new[] { CKM.CKM_AES_KEY_GEN, CKM.CKM_AES_GCM })
            {
                if (!mechanisms.Contains(needed))
                {
                    throw Pkcs11Errors.MechanismMissing(TokenLabel, needed);
                }
            }

            if (Pkcs11PooledSession.FindAesKeys(_session, label).Count > 0)
            {
                throw new KmsException(KmsErrorKind.KeyUnavailable,
                    $"token \"{TokenLabel}\" already has an AES key labelled \"{label}\"; labels are never reused");
            }

            var attributes = _session.Factories.ObjectAttributeFactory;
            var id = RandomNumberGenerator.GetBytes(16);
            using var mechanism = _session.Factories.MechanismFactory.Create(CKM.CKM_AES_KEY_GEN);
            var handle = _session.GenerateKey(mechanism,
            [
                attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
                attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
                attributes.Create(CKA.CKA_VALUE_LEN, (ulong)KeySize),
                attributes.Create(CKA.CKA_TOKEN, true),
                attributes.Create(CKA.CKA_PRIVATE, true),
                attributes.Create(CKA.CKA_SENSITIVE, true),
                attributes.Create(CKA.CKA_EXTRACTABLE, false),
                attributes.Create(CKA.CKA_ENCRYPT, true),
                attributes.Create(CKA.CKA_DECRYPT, true),
                attributes.Create(CKA.CKA_LABEL, label),
                attributes.Create(CKA.CKA_ID, id),
            ]);
            if (primary)
            {
                Pkcs11PromotionRecord.Append(_session, TokenLabel, label);
            }

            return Describe(handle);
        });
    }

    /// <summary>
    /// Makes the key labelled <paramref name="label"/> primary by appending it to the promotion
    /// record. Returns the record; unchanged when the key is primary already. Plugins pick the
    /// change up when restarted with <c>--pkcs11-key</c> set to the new label.
    /// </summary>
    public IReadOnlyList<string> Promote(string label)
    {
        if (!Pkcs11KeyLabel.IsValid(label))
        {
            throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.ProviderUnavailable, Pkcs11KeyLabel.Describe(label)));
        }

        return Call("promote", () =>
        {
            var keys = Pkcs11PooledSession.FindAesKeys(_session, label);
            if (keys.Count != 1)
            {
                throw keys.Count == 0 ? Pkcs11Errors.KeyNotFound(label, TokenLabel)
                    : new KmsException(KmsErrorKind.KeyUnavailable, $"{keys.Count} AES keys are labelled \"{label}\" on token \"{TokenLabel}\"; labels must be unique");
            }

            var info = Describe(keys[0]);
            if (!info.UsableAsPrimary)
            {
                throw new KmsException(KmsErrorKind.KeyUnavailable,
                    $"the AES key labelled \"{label}\" on token \"{TokenLabel}\" needs CKA_ENCRYPT and CKA_DECRYPT to be primary");
            }

            var record = Pkcs11PromotionRecord.Read(_session, TokenLabel);
            if (record is { Count: > 0 } && record[^1] == label)
            {
                return record;
            }

            return Pkcs11PromotionRecord.Append(_session, TokenLabel, label);
        });
    }

    /// <summary>The AES keys on the token (any label), in the token's order.</summary>
    public IReadOnlyList<Pkcs11KeyInfo> ListKeys() =>
        Call("C_FindObjects", () => Pkcs11PooledSession.FindAesKeys(_session, null).Select(Describe).ToList());

    /// <summary>The promotion record, or null when the token has none.</summary>
    public IReadOnlyList<string>? PromotionRecord() =>
        Call("C_GetAttributeValue", () => Pkcs11PromotionRecord.Read(_session, TokenLabel));

    public void Dispose()
    {
        _module.EnterCall();
        try
        {
            if (_generation == _module.Generation)
            {
                _session.Dispose();
            }
            else
            {
                // Dead handle, possibly reused by now: never closed, not even by the finalizer.
                GC.SuppressFinalize(_session);
            }
        }
        catch (Pkcs11Exception)
        {
        }
        finally
        {
            _module.ExitCall();
        }
    }

    private Pkcs11KeyInfo Describe(IObjectHandle handle)
    {
        var values = _session.GetAttributeValue(handle,
            [CKA.CKA_LABEL, CKA.CKA_ID, CKA.CKA_ENCRYPT, CKA.CKA_DECRYPT, CKA.CKA_SENSITIVE, CKA.CKA_EXTRACTABLE]);
        return new Pkcs11KeyInfo(
            values[0].GetValueAsString() ?? "",
            Convert.ToHexStringLower(values[1].GetValueAsByteArray() ?? []),
            values[2].GetValueAsBool(),
            values[3].GetValueAsBool(),
            values[4].GetValueAsBool(),
            values[5].GetValueAsBool());
    }

    private T Call<T>(string name, Func<T> action)
    {
        _module.EnterCall();
        try
        {
            if (_generation != _module.Generation)
            {
                throw new KmsException(KmsErrorKind.ProviderUnavailable, $"PKCS#11 session on token \"{TokenLabel}\" was lost; try again");
            }

            return action();
        }
        catch (Pkcs11Exception ex)
        {
            throw Pkcs11Errors.Failed(TokenLabel, name, ex.RV, ex);
        }
        finally
        {
            _module.ExitCall();
        }
    }
}
