using AdaMerging.Domain.Checkpoints;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Infrastructure.Jobs;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Infrastructure.Queue;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure;

public static class AdaMergingServiceCollectionExtensions
{
    /// <summary>What the API and the worker share: options, the database, the blob store, the queue and the clock.</summary>
    public static IServiceCollection AddAdaMergingCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdaMergingOptions>()
            .Bind(configuration.GetSection(AdaMergingOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<UploadLimits>().Bind(configuration.GetSection($"{AdaMergingOptions.Section}:Limits"));
        services.AddSingleton<DatabaseConnection>();
        services.AddHostedService<DatabaseStartup>(); // first: everything after it may use the database
        services.AddDbContext<AdaMergingDbContext>((sp, o) => o.UseNpgsql(sp.GetRequiredService<DatabaseConnection>().ConnectionString));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value;
            return new BlobStore(o.DataRoot, o.HostId, TimeSpan.FromHours(o.ForeignTempHours));
        });
        services.AddHostedService<BlobStoreStartup>();
        services.AddScoped<BlobCollector>();
        services.AddScoped<UploadExpiry>();
        services.TryAddSingleton(TimeProvider.System); // a host may bring its own clock (the tests' fake one)
        services.AddSingleton<WebhookSecrets>();
        services.AddSingleton(sp => new CallbackTargets(sp.GetRequiredService<IOptions<AdaMergingOptions>>().Value.CallbackAllowList));
        services.AddMergeQueue();
        return services;
    }

    /// <summary>The API's periodic removal of blobs nothing references (docs in <see cref="BlobCollector"/>).</summary>
    public static IServiceCollection AddBlobSweeping(this IServiceCollection services) => services.AddHostedService<BlobSweeper>();
}
