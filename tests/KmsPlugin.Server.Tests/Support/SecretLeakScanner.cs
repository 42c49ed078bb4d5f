using System.Text;

namespace KmsPlugin.Server.Tests.Support;

/// <summary>
/// Secrets a test gave the plugin or pulled out of it (passphrases, PINs, root keys, data keys,
/// plaintexts), and the texts they must never appear in, in any form a log or message could carry
/// them: raw, hex (either case) or base64 (standard or URL-safe), whole or as any 8-byte (hex) or
/// 12-byte (base64, every alignment) piece.
/// </summary>
internal sealed class SecretLeakScanner
{
    private const int HexWindow = 8;
    private const int Base64Window = 12;

    private readonly List<(string Secret, string Form, string Needle)> _needles = [];
    private readonly List<(string Secret, byte[] Bytes)> _rawBytes = [];
    private readonly List<(string Where, string Text)> _texts = [];

    public int SecretCount => _rawBytes.Count;

    public int TextCount => _texts.Count;

    /// <summary>A secret that is text (passphrase, PIN, a printable plaintext).</summary>
    public void AddSecret(string name, string secret)
    {
        _needles.Add((name, "raw", secret));
        AddSecret(name, Encoding.UTF8.GetBytes(secret));
    }

    public void AddSecret(string name, ReadOnlySpan<byte> secret)
    {
        // Shorter ones would turn up in unrelated text (ids, timestamps) by chance.
        ArgumentOutOfRangeException.ThrowIfLessThan(secret.Length, HexWindow, nameof(secret));
        _rawBytes.Add((name, secret.ToArray()));
        AddEncodings(name, secret, "whole");
        for (var i = 0; i + HexWindow <= secret.Length && secret.Length > HexWindow; i++)
        {
            _needles.Add((name, $"hex piece at {i}", Convert.ToHexStringLower(secret.Slice(i, HexWindow))));
            _needles.Add((name, $"HEX piece at {i}", Convert.ToHexString(secret.Slice(i, HexWindow))));
        }

        for (var i = 0; i + Base64Window <= secret.Length && secret.Length > Base64Window; i++)
        {
            var piece = Convert.ToBase64String(secret.Slice(i, Base64Window));
            _needles.Add((name, $"base64 piece at {i}", piece));
            _needles.Add((name, $"base64url piece at {i}", piece.Replace('+', '-').Replace('/', '_')));
        }

        // Binary secrets that happen to decode as text could be written raw by a text log.
        if (Encoding.UTF8.GetString(secret) is var decoded && !decoded.Contains('\uFFFD') && !_needles.Any(n => n.Needle == decoded))
        {
            _needles.Add((name, "raw", decoded));
        }
    }

    /// <summary>A text the secrets must not appear in: a log, a command's output, an error message, a metrics page.</summary>
    public void AddText(string where, string? text) => _texts.Add((where, text ?? ""));

    public void AddText(string where, ProcessResult result) => AddText(where, $"{result.Output}\n{result.Error}");

    /// <summary>Binary content (gRPC trailers): searched for the raw bytes as well.</summary>
    public void AddBytes(string where, byte[] content)
    {
        foreach (var (secret, bytes) in _rawBytes)
        {
            Assert.False(content.AsSpan().IndexOf(bytes) >= 0, $"{where} carries {secret} (raw bytes)");
        }

        AddText(where, Encoding.Latin1.GetString(content));
    }

    /// <summary>Checks every text against every secret; the message names the secret and where, never the value.</summary>
    public void AssertNoLeaks()
    {
        var leaks = (
            from text in _texts
            from needle in _needles
            where text.Text.Contains(needle.Needle, StringComparison.Ordinal)
            select $"{text.Where} contains {needle.Secret} ({needle.Form})").Distinct().ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    private void AddEncodings(string name, ReadOnlySpan<byte> secret, string what)
    {
        var base64 = Convert.ToBase64String(secret);
        _needles.Add((name, $"hex {what}", Convert.ToHexStringLower(secret)));
        _needles.Add((name, $"HEX {what}", Convert.ToHexString(secret)));
        _needles.Add((name, $"base64 {what}", base64));
        _needles.Add((name, $"base64url {what}", base64.TrimEnd('=').Replace('+', '-').Replace('/', '_')));
    }
}
