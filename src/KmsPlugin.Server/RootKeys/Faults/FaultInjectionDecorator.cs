using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.RootKeys.Faults;

/// <summary>Fault drills only: with a faults file, wraps the provider and re-reads the file as it changes.</summary>
internal sealed class FaultInjectionDecorator : IRootKeyDecorator
{
    public IRootKeyProvider Decorate(IRootKeyProvider provider, PluginHostOptions options, IServiceCollection services)
    {
        if (options.FaultsFile is not { } faultsFile)
        {
            return provider;
        }

        var faulty = new FaultInjectingRootKeyProvider(provider);
        services.AddSingleton(faulty);
        services.AddSingleton(s => new RootKeyFaultsFile(faultsFile, faulty, s.GetRequiredService<ILogger<RootKeyFaultsFile>>()));
        services.AddHostedService(s => s.GetRequiredService<RootKeyFaultsFile>());
        return faulty;
    }

    public void BeforeFirstCall(IServiceProvider services) => services.GetService<RootKeyFaultsFile>()?.Refresh();
}
