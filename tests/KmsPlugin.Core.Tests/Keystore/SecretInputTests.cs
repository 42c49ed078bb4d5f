using KmsPlugin.Core.Errors;
using KmsPlugin.Core.Keystore;

namespace KmsPlugin.Core.Tests.Keystore;

public sealed class SecretInputTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Theory]
    [InlineData("secret", "secret")]
    [InlineData("secret\n", "secret")]
    [InlineData("secret\r\n", "secret")]
    [InlineData("secret\n\n", "secret\n")]
    [InlineData(" spaced secret \n", " spaced secret ")]
    public void Passphrase_file_loses_exactly_one_trailing_newline(string content, string expected)
    {
        var file = temp.File("pass");
        File.WriteAllText(file, content);
        Assert.Equal(expected, System.Text.Encoding.UTF8.GetString(SecretInput.ReadPassphraseFile(file)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    public void Empty_passphrase_file_is_refused(string content)
    {
        var file = temp.File("pass");
        File.WriteAllText(file, content);
        var error = Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseFile(file));
        Assert.Equal($"passphrase file \"{file}\" holds an empty passphrase", error.Message);
    }

    [Fact]
    public void Missing_passphrase_file_names_the_path()
    {
        var file = temp.File("absent");
        var error = Assert.Throws<KmsException>(() => SecretInput.ReadPassphraseFile(file));
        Assert.Contains(file, error.Message);
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
