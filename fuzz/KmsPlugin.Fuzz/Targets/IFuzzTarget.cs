namespace KmsPlugin.Fuzz.Targets;

/// <summary>
/// One parser under the fuzzer. <see cref="Run"/> returns for the documented outcomes (a result or
/// the documented error) and throws for anything else, which the fuzzer records as a crash.
/// </summary>
internal interface IFuzzTarget
{
    string Name { get; }

    /// <summary>Valid inputs made from real values, the starting corpus.</summary>
    IEnumerable<(string Name, byte[] Bytes)> Seeds();

    void Run(byte[] input);
}
