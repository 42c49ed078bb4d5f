namespace KmsPlugin.Tests.Shared.Properties;

/// <summary>Bytes made by changing valid input; <see cref="Kind"/> says how, for failure messages.</summary>
internal sealed record Mutant(string Kind, byte[] Bytes)
{
    public override string ToString() =>
        $"{Kind}, {Bytes.Length} bytes: {Convert.ToHexString(Bytes.AsSpan(0, Math.Min(Bytes.Length, 96)))}{(Bytes.Length > 96 ? "…" : "")}";
}
