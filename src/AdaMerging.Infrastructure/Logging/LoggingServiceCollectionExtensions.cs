using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serilog;

namespace AdaMerging.Infrastructure.Logging;

public static class LoggingServiceCollectionExtensions
{
    /// <summary>Serilog as the host's own logger (not the static one, so several hosts in one process stay apart).</summary>
    public static IServiceCollection AddAdaMergingLogging(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((_, logger) => logger
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console(
                outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                formatProvider: CultureInfo.InvariantCulture));
}
