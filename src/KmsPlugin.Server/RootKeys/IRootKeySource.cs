using KmsPlugin.Core.RootKeys;

namespace KmsPlugin.Server.RootKeys;

/// <summary>Root keys whose settings passed their checks, ready to open.</summary>
internal interface IRootKeySource
{
    /// <summary>What the keys are, for messages: <c>keystore "/path"</c>, <c>PKCS#11 token "label"</c>.</summary>
    string Description { get; }

    /// <summary>True when only opening can find some configuration problems (a wrong PIN, a missing key).</summary>
    bool OpeningChecksConfiguration { get; }

    /// <summary>Opens the provider; throws <see cref="Core.Errors.KmsException"/> for unusable keys. Call once.</summary>
    IRootKeyProvider Open();
}
