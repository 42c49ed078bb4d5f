namespace KmsPlugin.Server.Tests.Docs;

/// <summary>One link of a Markdown document: the line it is on (1-based) and its target as written.</summary>
internal sealed record MarkdownLink(int Line, string Target);
