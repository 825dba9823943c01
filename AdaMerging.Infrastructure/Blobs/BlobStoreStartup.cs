using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AdaMerging.Infrastructure.Blobs;

/// <summary>
/// Opens the blob store when a host starts, not on its first upload, so that what a killed process left in the temp
/// folder is swept (and its space released) before anything else runs.
/// </summary>
internal sealed class BlobStoreStartup(IServiceProvider services) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        services.GetRequiredService<BlobStore>();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
