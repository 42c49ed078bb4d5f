using KmsPlugin.Server.Tests.Support;

namespace KmsPlugin.Server.Tests.Hardening;

/// <summary>The hygiene tests are only as good as their scanner: it must catch every encoding it claims to.</summary>
public sealed class SecretLeakScannerTests
{
    private static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + (i * 7))).ToArray();

    public static TheoryData<string, string> Leaks => new()
    {
        { "raw text", "login with pin-5f3a9c01 failed" },
        { "lower hex piece", "dek=" + Convert.ToHexStringLower(Key.AsSpan(11, 8)) },
        { "upper hex whole", Convert.ToHexString(Key) },
        { "base64 at an odd offset", "k:" + Convert.ToBase64String(Key.AsSpan(5, 20)) },
        { "base64url piece", Convert.ToBase64String(Key.AsSpan(13, 15)).Replace('+', '-').Replace('/', '_') },
    };

    [Theory]
    [MemberData(nameof(Leaks))]
    public void Every_form_of_a_secret_is_found(string form, string text)
    {
        var scanner = Scanner();
        scanner.AddText(form, text);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(scanner.AssertNoLeaks);
    }

    [Fact]
    public void Raw_bytes_in_binary_content_are_found()
    {
        var scanner = Scanner();
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => scanner.AddBytes("trailer", [1, 2, .. Key, 3]));
    }

    [Fact]
    public void Unrelated_text_passes()
    {
        var scanner = Scanner();
        scanner.AddText("log", $"v2 Encrypt ok uid {Guid.NewGuid()} key_id kek-20261128-81fa2418@2 " + Convert.ToHexString(Key.AsSpan(0, 7)));
        scanner.AssertNoLeaks();
    }

    private static SecretLeakScanner Scanner()
    {
        var scanner = new SecretLeakScanner();
        scanner.AddSecret("PIN", "pin-5f3a9c01");
        scanner.AddSecret("root key", Key);
        return scanner;
    }
}
