using AdaMerging.Api.Endpoints;
using AdaMerging.Api.Setup;
using AdaMerging.Infrastructure;
using AdaMerging.Infrastructure.Logging;
using Serilog;

var builder = WebApplication.CreateBuilder(args);
var connectionString = await AdaMergingServiceCollectionExtensions.ResolveConnectionStringAsync(builder.Configuration);

builder.Services.AddAdaMergingLogging(builder.Configuration);
builder.Services.AddAdaMergingCore(builder.Configuration, connectionString);
builder.Services.AddApiErrors();
builder.Services.AddApiDocs();
builder.Services.AddHealth();

var app = builder.Build();
await app.MigrateDatabaseAsync();

app.UseApiErrors();
app.UseSerilogRequestLogging();
app.MapApiDocs();
app.MapHealth();
app.MapCheckpoints();
app.MapMerges();

await app.RunAsync();

/// <summary>Visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
