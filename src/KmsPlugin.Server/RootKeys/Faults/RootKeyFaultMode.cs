namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>How an injected fault makes a root-key call misbehave.</summary>
internal enum RootKeyFaultMode
{
    /// <summary>The call goes through untouched.</summary>
    None,

    /// <summary>Every call fails as an unreachable provider would.</summary>
    Fail,

    /// <summary>Every call waits until it is cancelled, as an HSM that stopped answering.</summary>
    Hang,

    /// <summary>Every call is delayed, then goes through.</summary>
    Slow,

    /// <summary>Every k-th call fails; the others go through.</summary>
    FailEvery,
}
