using KmsPlugin.Fuzz.Targets;
using SharpFuzz;

// kms-fuzz seeds WORK              write every target's seed corpus to WORK/seeds/TARGET
// kms-fuzz run TARGET WORK         one target under afl-fuzz (see fuzz/README.md)
// kms-fuzz replay TARGET WORK PATH...  run files (or every file in directories) once, report what throws
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: kms-fuzz seeds WORK | run TARGET WORK | replay TARGET WORK PATH...");
    return 2;
}

var repositoryRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", ".."));
if (!File.Exists(Path.Combine(repositoryRoot, "KmsPlugin.sln")))
{
    repositoryRoot = Environment.GetEnvironmentVariable("KMS_PLUGIN_ROOT") ?? Directory.GetCurrentDirectory();
}

var work = Path.GetFullPath(args[0] == "seeds" ? args[1] : args[2]);
Directory.CreateDirectory(work);
IFuzzTarget[] targets =
[
    new EnvelopeTarget(work), new KubeValueTarget(repositoryRoot), new HpackTarget(), new NormalizerTarget(),
    new KeystoreTarget(work), new ConfigTarget(repositoryRoot, work),
];

if (args[0] == "seeds")
{
    foreach (var target in targets)
    {
        var directory = Directory.CreateDirectory(Path.Combine(work, "seeds", target.Name)).FullName;
        foreach (var (name, bytes) in target.Seeds())
        {
            File.WriteAllBytes(Path.Combine(directory, name), bytes);
        }
    }

    return 0;
}

var chosen = targets.SingleOrDefault(t => t.Name == args[1]);
if (chosen is null)
{
    Console.Error.WriteLine($"unknown target \"{args[1]}\"; targets: {string.Join(", ", targets.Select(t => t.Name))}");
    return 2;
}

if (args[0] == "run")
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        chosen.Run(buffer.ToArray());
    });
    return 0;
}

var failures = 0;
var files = args.Skip(3).SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p) : [p]).ToList();
foreach (var file in files)
{
    try
    {
        chosen.Run(File.ReadAllBytes(file));
    }
    catch (Exception e)
    {
        failures++;
        Console.WriteLine($"{file}: {e.GetType().FullName}: {e.Message}");
    }
}

Console.WriteLine($"{files.Count} inputs replayed through {chosen.Name}, {failures} threw");
return failures == 0 ? 0 : 1;
