using System.Text;
using KmsPlugin.RootKeys.Keystore;

namespace KmsPlugin.Core.Tests.Keystore;

public sealed class KeystoreKdfParametersTests
{
    // Expected values computed independently with Python cryptography 48 (OpenSSL's Argon2id):
    // Argon2id(salt=b"somesaltsomesalt", length=32, iterations=t, lanes=p, memory_cost=m).derive(password)
    [Theory]
    [InlineData("correct horse battery staple", 256, 2, 1, "6dee3866688ddefc826ea59e07e1f01d433f36bd9498995d1703116fa78be409")]
    [InlineData("password", 1024, 3, 2, "a331c9e908e5cc6a7fbf63e915ca3ae2d797e03965116715a95b4efec189a160")]
    public void Derivation_matches_an_independent_implementation(string password, int memoryKiB, int iterations, int parallelism, string expectedHex)
    {
        var output = new byte[32];
        new KeystoreKdfParameters(memoryKiB, iterations, parallelism).DeriveKey(Encoding.UTF8.GetBytes(password), "somesaltsomesalt"u8, output);
        Assert.Equal(expectedHex, Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Default_is_64_MiB_3_passes_1_lane_and_above_the_floor()
    {
        Assert.Equal(new KeystoreKdfParameters(65536, 3, 1), KeystoreKdfParameters.Default);
        Assert.Null(KeystoreKdfParameters.Default.Problem(allowBelowMinimum: false));
        Assert.Null(KeystoreKdfParameters.Minimum.Problem(allowBelowMinimum: false));
    }

    [Theory]
    [InlineData(19 * 1024 - 1, 2, 1)]
    [InlineData(19 * 1024, 1, 1)]
    [InlineData(64 * 1024, 1, 1)]
    public void Below_the_floor_is_refused_unless_tests_allow_it(int memoryKiB, int iterations, int parallelism)
    {
        var parameters = new KeystoreKdfParameters(memoryKiB, iterations, parallelism);
        Assert.Contains("below the minimum", parameters.Problem(allowBelowMinimum: false));
        Assert.Null(parameters.Problem(allowBelowMinimum: true));
    }

    [Fact]
    public void The_bounds_leave_a_margin_of_four_times_what_keystore_init_writes()
    {
        var atBounds = new KeystoreKdfParameters(KeystoreKdfParameters.MaxMemoryKiB, KeystoreKdfParameters.MaxIterations, KeystoreKdfParameters.MaxParallelism);
        Assert.Null(atBounds.Problem(allowBelowMinimum: false));
        Assert.Equal(KeystoreKdfParameters.MaxMemoryKiB, 4 * KeystoreKdfParameters.Default.MemoryKiB);
        Assert.Equal(KeystoreKdfParameters.MaxIterations, 4 * KeystoreKdfParameters.Default.Iterations);
    }

    [Theory]
    [InlineData(8, 1, 0)]
    [InlineData(8, 0, 1)]
    [InlineData(7, 1, 1)]
    [InlineData(64, 1, 5)]
    [InlineData(64, 13, 1)]
    [InlineData(256 * 1024 + 1, 3, 1)]
    [InlineData(4 * 1024 * 1024, 3, 1)]
    [InlineData(64 * 1024, 64, 1)]
    public void Out_of_range_is_refused_even_in_tests(int memoryKiB, int iterations, int parallelism)
    {
        Assert.Contains("is outside", new KeystoreKdfParameters(memoryKiB, iterations, parallelism).Problem(allowBelowMinimum: true));
    }
}
