using AdaMerging.Api.Endpoints;
using AdaMerging.Api.Setup;
using AdaMerging.Infrastructure;
using AdaMerging.Infrastructure.Logging;
using Serilog;

// Settings come from beside the binary; relative data paths stay relative to where the service is started.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.Services.AddAdaMergingLogging(builder.Configuration);
builder.Services.AddAdaMergingCore(builder.Configuration);
builder.Services.AddApiErrors();
builder.Services.AddApiDocs();
builder.Services.AddHealth();
builder.Services.AddAccess();

var app = builder.Build();
await app.MigrateDatabaseAsync();

app.UseSerilogRequestLogging(); // outside the error handler, so it logs the status the client gets
app.UseApiErrors();
app.MapApiDocs(); // before access control: the OpenAPI document and UI are public
app.UseAccess();
app.MapHealth();
app.MapCheckpoints();
app.MapHeads();
app.MapDatasets();
app.MapMerges();
app.MapKeys();

await app.RunAsync();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
