using KmsPlugin.Core.Errors;
using Net.Pkcs11Interop.Common;
using Net.Pkcs11Interop.HighLevelAPI;

namespace KmsPlugin.RootKeys.Pkcs11;

/// <summary>
/// One logged-in session of the pool, used by one call at a time. Key object handles are looked
/// up per session and cached with it, so a rebuilt session never sees a stale handle.
/// </summary>
internal sealed class Pkcs11PooledSession
{
    private readonly Dictionary<string, IObjectHandle> _keys = new(StringComparer.Ordinal);

    public Pkcs11PooledSession(ISlot slot, ISession session, string tokenLabel, int epoch, int moduleGeneration)
    {
        ModuleGeneration = moduleGeneration;
        Slot = slot;
        Session = session;
        TokenLabel = tokenLabel;
        Epoch = epoch;
    }

    public ISlot Slot { get; }

    public ISession Session { get; }

    public string TokenLabel { get; }

    /// <summary>The pool's connection epoch when this session was opened; older sessions are closed, not reused.</summary>
    public int Epoch { get; }

    /// <summary>The module's initialisation this session belongs to (<see cref="Pkcs11Module.Generation"/>).</summary>
    public int ModuleGeneration { get; }

    /// <summary>The AES secret key labelled <paramref name="label"/>; <see cref="KmsErrorKind.KeyUnavailable"/> when absent.</summary>
    public IObjectHandle FindAesKey(string label)
    {
        if (_keys.TryGetValue(label, out var handle))
        {
            return handle;
        }

        var found = FindAesKeys(Session, label);
        if (found.Count == 0)
        {
            throw Pkcs11Errors.KeyNotFound(label, TokenLabel);
        }

        if (found.Count > 1)
        {
            throw Pkcs11Errors.Configuration(new KmsException(KmsErrorKind.KeyUnavailable,
                $"root key \"{Pkcs11KeyLabel.ToKeyId(label)}\": {found.Count} AES keys are labelled \"{label}\" on token \"{TokenLabel}\"; labels must be unique"));
        }

        _keys[label] = found[0];
        return found[0];
    }

    public static List<IObjectHandle> FindAesKeys(ISession session, string? label)
    {
        var attributes = session.Factories.ObjectAttributeFactory;
        var template = new List<IObjectAttribute>
        {
            attributes.Create(CKA.CKA_CLASS, CKO.CKO_SECRET_KEY),
            attributes.Create(CKA.CKA_KEY_TYPE, CKK.CKK_AES),
        };
        if (label is not null)
        {
            template.Add(attributes.Create(CKA.CKA_LABEL, label));
        }

        return session.FindAllObjects(template);
    }

    /// <summary>
    /// Forgets a session whose handle is dead: the module may already have handed the same number to
    /// a new session, so it must never be closed, not even by Pkcs11Interop's finalizer.
    /// </summary>
    public void Abandon() => GC.SuppressFinalize(Session);

    /// <summary>Closes the session; call only while its module generation is current (hold the module's call lock).</summary>
    public void Close()
    {
        // Pkcs11Interop's Dispose runs C_CloseSession (again, if an explicit close failed).
        try
        {
            Session.Dispose();
        }
        catch (Pkcs11Exception)
        {
            // Already gone with its token; nothing to release.
        }
    }
}
