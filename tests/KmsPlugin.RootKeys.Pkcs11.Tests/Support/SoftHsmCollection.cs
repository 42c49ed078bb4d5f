namespace KmsPlugin.RootKeys.Pkcs11.Tests.Support;

/// <summary>
/// Every SoftHSM test shares one module in this process; seeing a token made by softhsm2-util means
/// re-initialising that module, which must not race another test's calls. They run one at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SoftHsmCollection
{
    public const string Name = "SoftHSM";
}
