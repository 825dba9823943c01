using AdaMerging.Api.Endpoints;
using AdaMerging.Api.Idempotency;
using AdaMerging.Api.Setup;
using AdaMerging.Infrastructure;
using AdaMerging.Infrastructure.Logging;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Telemetry;
using AdaMerging.Api.Errors;
using OpenTelemetry.Trace;
using Serilog;

// Settings come from beside the binary; relative data paths stay relative to where the service is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Configuration.AddFileSecrets(); // ConnectionStrings__Postgres_FILE and the like (docs/deployment.md, "Secrets")
builder.ListenForMetrics();

builder.Services.AddAdaMergingLogging(builder.Configuration);
builder.Services.AddAdaMergingCore(builder.Configuration);
builder.Services.AddAdaMergingTelemetry(builder.Configuration, "adamerging-api", t => t.AddAspNetCoreInstrumentation());
builder.Services.AddApiMetrics();
builder.Services.AddDatabaseMigration();
builder.Services.AddBlobSweeping();
builder.Services.AddMergeViews();
builder.Services.AddApiErrors();
builder.Services.AddApiDocs();
builder.Services.AddHealth();
builder.Services.AddAccess();
builder.Services.AddForwardedHeadersFromKnownProxies();

var app = builder.Build();

app.UseForwardedHeadersFromKnownProxies(); // first: everything after sees the caller, not the balancer

app.UseSerilogRequestLogging(o =>
{
    // Outside the error handler, so it logs the status the client gets, with the trace id its ProblemDetails quote.
    o.MessageTemplate = "HTTP {RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms (trace id {TraceId})";
    o.EnrichDiagnosticContext = (diagnostics, http) => diagnostics.Set("TraceId", TraceIds.Of(http));
    o.Logger = app.Services.GetService<Serilog.ILogger>(); // this host's logger, never the process-wide static one
});
app.UseApiErrors();
app.MapApiDocs(); // before access control: the OpenAPI document and UI are public
app.MapWebPage(); // public too: the page asks for a key and sends it itself
app.MapApiMetrics();
app.UseAccess();
app.UseIdempotency();
app.MapHealth();
app.MapCheckpoints();
app.MapResumableUploads();
app.MapHeads();
app.MapDatasets();
app.MapMerges();
app.MapExperiments();
app.MapMergeEvents();
app.MapDownloadLinks();
app.MapKeys();
app.MapWebhooks();

await app.RunAsync();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
