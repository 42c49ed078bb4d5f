namespace KmsPlugin.Fuzz.Targets;

/// <summary>A target's own check failed (e.g. a tampered ciphertext opened): a crash for the fuzzer.</summary>
internal sealed class PropertyViolation(string message) : Exception(message);
