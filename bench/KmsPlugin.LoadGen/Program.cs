using System.CommandLine;
using KmsPlugin.LoadGen.Cli;

var root = new RootCommand("kms-loadgen: load, cold-start and chart tooling for KMS plugins on a unix socket")
{
    RunCommand.Create(),
    ColdStartCommand.Create(),
    ReportCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
