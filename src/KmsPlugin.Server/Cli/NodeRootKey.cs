namespace KmsPlugin.Server.Cli;

/// <summary>One root key as a node reports it: id, role and key check value.</summary>
internal sealed record NodeRootKey(string Id, string Role, string CheckValue);
