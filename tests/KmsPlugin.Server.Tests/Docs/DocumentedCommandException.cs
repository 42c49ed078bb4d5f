namespace KmsPlugin.Server.Tests.Docs;

/// <summary>A documented command that did not run as written.</summary>
internal sealed class DocumentedCommandException(string message) : Exception(message);
