using KmsPlugin.Core.Errors;
using KmsPlugin.Core.Secrets;

namespace KmsPlugin.Core.Tests.Secrets;

public sealed class SecretInputTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("secret", "secret")]
    [InlineData("secret\n", "secret")]
    [InlineData("secret\r\n", "secret")]
    [InlineData("secret\n\n", "secret\n")]
    [InlineData(" spaced secret \n", " spaced secret ")]
    public void Passphrase_file_loses_exactly_one_trailing_newline(string content, string expected)
    {
        var file = OwnerOnlyFile(content);
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(SecretInput.ReadPassphraseFile(file)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Empty_passphrase_file_is_refused(string content)
    {
        var file = OwnerOnlyFile(content);
        var error = Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseFile(file));
        Assert.Equal($"passphrase file \"{file}\" holds an empty passphrase", error.Message);
    }

    [Fact]
    public void Missing_passphrase_file_is_one_line_saying_no_such_file()
    {
        var file = _temp.File("absent");
        var error = Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseFile(file));
        Assert.Equal($"passphrase file \"{file}\": no such file", error.Message);
        var inMissingDirectory = _temp.File("gone/pin");
        Assert.Equal($"PIN file \"{inMissingDirectory}\": no such file", Assert.Throws<KmsException>(() => SecretInput.ReadFile(inMissingDirectory, "PIN")).Message);
    }

    [Theory]
    [InlineData("0640")]
    [InlineData("0644")]
    [InlineData("0604")]
    [InlineData("0620")]
    [InlineData("0660")]
    public void A_secret_file_that_group_or_others_may_access_is_refused_with_the_keystore_wording(string mode)
    {
        var file = OwnerOnlyFile("secret\n");
        File.SetUnixFileMode(file, (UnixFileMode)Convert.ToInt32(mode, 8));
        var passphrase = Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseFile(file));
        Assert.Equal($"passphrase file \"{file}\": file mode {mode} lets group or others access it; run chmod 600 \"{file}\"", passphrase.Message);
        var pin = Assert.Throws<KmsException>(() => SecretInput.ReadFile(file, "PIN"));
        Assert.Equal($"PIN file \"{file}\": file mode {mode} lets group or others access it; run chmod 600 \"{file}\"", pin.Message);
    }

    [Theory]
    [InlineData("0600")]
    [InlineData("0400")]
    public void An_owner_only_secret_file_is_read(string mode)
    {
        var file = OwnerOnlyFile("secret\n");
        File.SetUnixFileMode(file, (UnixFileMode)Convert.ToInt32(mode, 8));
        Assert.Equal("secret"u8.ToArray(), SecretInput.ReadFile(file, "PIN"));
    }

    private string OwnerOnlyFile(string content)
    {
        var file = _temp.File("pass-" + Guid.NewGuid().ToString("N"));
        File.WriteAllText(file, content);
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return file;
    }

    [Fact]
    public void Passphrase_from_environment_variable()
    {
        var name = "KMS_PLUGIN_TEST_PASSPHRASE_" + Guid.NewGuid().ToString("N");
        try
        {
            Environment.SetEnvironmentVariable(name, "from env\n");
            Assert.Equal("from env"u8.ToArray(), SecretInput.ReadPassphraseEnvironment(name));

            Environment.SetEnvironmentVariable(name, "\n");
            Assert.Contains("empty passphrase", Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseEnvironment(name)).Message);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }

        Assert.Equal($"environment variable {name} is not set", Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseEnvironment(name)).Message);
    }
}
