namespace KmsPlugin.Tests.Shared.Properties;

/// <summary>A property's counterexample: the message says how to reproduce it, the inner exception what went wrong.</summary>
internal sealed class PropertyFailedException(string message, Exception inner) : Exception(message, inner);
