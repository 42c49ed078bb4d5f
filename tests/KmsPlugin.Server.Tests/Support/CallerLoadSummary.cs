namespace KmsPlugin.Server.Tests.Support;

/// <summary>What a <see cref="CallerLoad"/> saw: round trips, failed calls, wrong plaintexts, key ids.</summary>
/// <param name="OldKeyAfterSwitch">Encrypts that started after the new key id was first seen and still got another one.</param>
internal sealed record CallerLoadSummary(long Calls, IReadOnlyList<string> Failures, int WrongPlaintexts, int OldKeyAfterSwitch, IReadOnlySet<string> KeyIds);
