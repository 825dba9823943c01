using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Serilog;

namespace AdaMerging.Infrastructure.Logging;

public static class LoggingServiceCollectionExtensions
{
    /// <summary>
    /// Serilog as the host's own logger (not the static one, so several hosts in one process stay apart). Sinks
    /// registered in the container (ILogEventSink) receive every event too.
    /// </summary>
    public static IServiceCollection AddAdaMergingLogging(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((sp, logger) => logger
            // Settings may name the console sink only: no scanning of the folder for Serilog assemblies, which fails when a
            // host runs from a folder it shares with others (tests) and costs start-up time everywhere.
            .ReadFrom.Configuration(configuration, new Serilog.Settings.Configuration.ConfigurationReaderOptions(typeof(ConsoleLoggerConfigurationExtensions).Assembly))
            .ReadFrom.Services(sp)
            .Enrich.FromLogContext()
            .WriteToConsoleAs(configuration[$"{AdaMerging.Infrastructure.Options.AdaMergingOptions.Section}:LogFormat"]),
            // Never the static Log.Logger: with several hosts in one process (tests) it would be the last one's, and
            // disposing any host would close it under the others.
            preserveStaticLogger: true);

    /// <summary>AdaMerging:LogFormat: "json", one JSON object an event (every property, the trace id among them); else text lines.</summary>
    private static LoggerConfiguration WriteToConsoleAs(this LoggerConfiguration logger, string? format) =>
        format == "json"
            ? logger.WriteTo.Console(new Serilog.Formatting.Json.JsonFormatter(renderMessage: true, formatProvider: CultureInfo.InvariantCulture))
            // The W3C trace id last: one merge's lines in the API and the worker share it (docs/api.md, "Observability").
            : logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj} {TraceId}{NewLine}{Exception}",
                formatProvider: CultureInfo.InvariantCulture);
}
