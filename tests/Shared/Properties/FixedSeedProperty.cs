using CsCheck;

namespace KmsPlugin.Tests.Shared.Properties;

/// <summary>
/// Runs a CsCheck generator over a fixed sequence of seeds, so every run of the suite tests the same
/// cases and a failure names the one case number that reproduces it.
/// </summary>
internal static class FixedSeedProperty
{
    /// <summary>The PCG stream every property test draws from; case i uses seed i on it.</summary>
    public const uint Stream = 0x6b6d7331;

    public static void Check<T>(Gen<T> gen, Action<T> assert, int cases, Func<T, string> describe)
    {
        for (var i = 0; i < cases; i++)
        {
            var value = Generate(gen, i);
            try
            {
                assert(value);
            }
            catch (Exception e)
            {
                throw new PropertyFailedException($"case {i} of {cases} (PCG stream {Stream}, seed {i}) failed: {describe(value)}", e);
            }
        }
    }

    public static T Generate<T>(Gen<T> gen, int caseNumber) => gen.Generate(new PCG(Stream, (ulong)caseNumber), null!, out _);
}
