using KmsPlugin.Core.RootKeys;
using KmsPlugin.Server.Hosting;

namespace KmsPlugin.Server.RootKeys;

/// <summary>
/// Wraps whichever provider serves (fault drills today). Listed in
/// <see cref="RootKeyModules.Decorators"/> beside the modules, so the host knows it only through
/// the registry.
/// </summary>
internal interface IRootKeyDecorator
{
    /// <summary>
    /// Wraps <paramref name="provider"/> when <paramref name="options"/> turn this decorator on,
    /// adding the services it needs; otherwise returns it unchanged.
    /// </summary>
    IRootKeyProvider Decorate(IRootKeyProvider provider, PluginHostOptions options, IServiceCollection services);

    /// <summary>Runs once the services exist, before the first call (the health probe's included).</summary>
    void BeforeFirstCall(IServiceProvider services);
}
