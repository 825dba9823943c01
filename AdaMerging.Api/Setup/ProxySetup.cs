using System.Net;
using AdaMerging.Infrastructure.Options;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Behind a load balancer every caller would share the balancer's address (one rate limit for all anonymous callers,
/// one address in the logs): X-Forwarded-For and X-Forwarded-Proto are honoured from the proxies AdaMerging:KnownProxies
/// names (addresses or CIDR networks), and from nobody else, so a caller cannot forge its address (docs/deployment.md).
/// </summary>
public static class ProxySetup
{
    public static IServiceCollection AddForwardedHeadersFromKnownProxies(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<AdaMergingOptions>>((o, service) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear(); // not even loopback unless named: a proxy is trusted because it is configured
            o.ForwardLimit = null;     // every hop the known proxies added, back to the first address that is not one of them
            foreach (var proxy in service.Value.KnownProxies)
            {
                if (proxy.Contains('/', StringComparison.Ordinal)) o.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
                else o.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });
        return services;
    }

    public static WebApplication UseForwardedHeadersFromKnownProxies(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<AdaMergingOptions>>().Value.KnownProxies.Count > 0) app.UseForwardedHeaders();
        return app;
    }
}
