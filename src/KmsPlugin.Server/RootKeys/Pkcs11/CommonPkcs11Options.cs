using System.CommandLine;

using KmsPlugin.Server.Cli;

namespace KmsPlugin.Server.RootKeys.Pkcs11;

/// <summary>The token selection and PIN options every `pkcs11` verb takes.</summary>
internal sealed record CommonPkcs11Options(Option<string?> Module, Option<string?> Token, Option<string?> TokenSerial, Option<string?> PinFile);
