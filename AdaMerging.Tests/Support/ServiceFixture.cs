using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Worker;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The whole service for one test class: the API in a test server and a real worker host running Hangfire,
/// both on their own database of the test cluster and their own data folder.
/// </summary>
public class ServiceFixture : IAsyncLifetime, IDisposable
{
    private readonly TempDirectory _data = new();
    private WebApplicationFactory<Program>? _api;
    private IHost? _worker;

    /// <summary>A client with the key of owner "alice".</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>A client with an admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>A client without any key.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    /// <summary>A new key of <paramref name="owner"/>: its secret, as the key's holder sends it.</summary>
    public async Task<string> CreateKeyAsync(string owner, bool admin = false)
    {
        var (key, secret) = AdaMerging.Domain.Store.ApiKey.Create(owner, admin, DateTimeOffset.UtcNow);
        await using var db = NewDbContext();
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync();
        return secret;
    }

    /// <summary>A client holding a new key of <paramref name="owner"/>.</summary>
    public async Task<HttpClient> ClientForAsync(string owner, bool admin = false)
    {
        var secret = await CreateKeyAsync(owner, admin);
        var client = _api!.CreateClient();
        client.DefaultRequestHeaders.Add("X-Api-Key", secret);
        return client;
    }

    public string DataRoot => _data.Path;

    /// <summary>What the API logged.</summary>
    public CapturedLog ApiLog { get; } = new();

    /// <summary>What the in-process worker logged.</summary>
    public CapturedLog WorkerLog { get; } = new();

    public IServiceProvider ApiServices => _api!.Services;

    public IServiceProvider WorkerServices => _worker!.Services;

    /// <summary>Settings a derived fixture adds or overrides.</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings() => [];

    /// <summary>A fresh database for this fixture: on the shared test cluster unless a fixture needs its own.</summary>
    protected virtual Task<string> CreateDatabaseAsync() => TestPostgres.CreateDatabaseAsync();

    /// <summary>The clock both hosts read instead of the system's (a fixture's fake one); null: the system's.</summary>
    protected virtual TimeProvider? Clock => null;

    /// <summary>False for fixtures whose workers are real processes the tests start and kill.</summary>
    protected virtual bool InProcessWorker => true;

    /// <summary>The configuration both hosts run with (as a worker process would read it from its environment).</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; private set; } = new Dictionary<string, string?>();

    /// <summary>Called first, before any host touches the data folder (and before the settings are read).</summary>
    protected virtual Task PrepareDataRootAsync(string path) => Task.CompletedTask;

    public async Task InitializeAsync()
    {
        await PrepareDataRootAsync(_data.Path);
        var connectionString = await CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["AdaMerging:DataRoot"] = _data.Path,
            ["AdaMerging:Queue"] = "test",
            ["AdaMerging:Device"] = "cpu",
            ["Serilog:MinimumLevel:Default"] = "Warning",
            ["Serilog:MinimumLevel:Override:Serilog.AspNetCore.RequestLoggingMiddleware"] = "Information",
            ["Serilog:MinimumLevel:Override:AdaMerging.Infrastructure.Jobs.MergeJobRunner"] = "Information",
            ["AdaMerging:Limits:MaxTensorCount"] = "1000",
            ["AdaMerging:Limits:MaxClasses"] = "1000",
            ["AdaMerging:CallbackAllowList:0"] = "127.0.0.1", // the tests' receivers listen on loopback
        };
        foreach (var (key, value) in ExtraSettings()) settings[key] = value;
        Settings = settings;
        _api = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            foreach (var (key, value) in settings) b.UseSetting(key, value);
            b.ConfigureServices(s => s.AddSingleton<Serilog.Core.ILogEventSink>(ApiLog));
            if (Clock is { } clock) b.ConfigureTestServices(s => s.AddSingleton(clock));
        });
        Anonymous = _api.CreateClient(); // starting the API applies the migrations
        _api.Services.GetRequiredService<AdaMerging.Infrastructure.Blobs.BlobStore>(); // creates the store's folders
        Client = await ClientForAsync("alice");
        Admin = await ClientForAsync("root", admin: true);
        if (!InProcessWorker) return;
        _worker = WorkerHost.Build([], b =>
        {
            b.Configuration.AddInMemoryCollection(settings);
            b.Services.AddSingleton<Serilog.Core.ILogEventSink>(WorkerLog);
            if (Clock is { } clock) b.Services.AddSingleton(clock);
        });
        await _worker.StartAsync();
    }

    public virtual async Task DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.StopAsync();
            _worker.Dispose();
        }
        if (_api is not null) await _api.DisposeAsync();
        // Npgsql keeps idle pooled connections for minutes after their hosts are gone: release them, or the many
        // services of a test run exhaust the shared cluster's connections.
        Npgsql.NpgsqlConnection.ClearAllPools();
        await ReleaseDataRootAsync(_data.Path);
        _data.Dispose();
    }

    /// <summary>Called last, after both hosts stopped and before the data folder is deleted.</summary>
    protected virtual Task ReleaseDataRootAsync(string path) => Task.CompletedTask;

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    public AdaMergingDbContext NewDbContext() => _api!.Services.CreateScope().ServiceProvider.GetRequiredService<AdaMergingDbContext>();

    public async Task<JsonElement> UploadAsync(string path)
    {
        using var content = new StreamContent(File.OpenRead(path));
        using var response = await Client.PostAsync($"/checkpoints?name={Path.GetFileName(path)}", content);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"upload answered {(int)response.StatusCode}: {body}");
        return body;
    }

    /// <summary>Polls a merge until it is finished, as a client would.</summary>
    /// <summary>Until the merge at <paramref name="location"/> has taken its first optimisation step: running, not just queued.</summary>
    public Task WaitForFirstStepAsync(string location) => Poll.UntilAsync(
        async () => (await Client.GetFromJsonAsync<JsonElement>(location)).GetProperty("progress").GetProperty("step").GetInt32() > 0,
        TimeSpan.FromSeconds(60), () => $"{location} took no step");

    public async Task<JsonElement> WaitForMergeAsync(string location, TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(60);
        JsonElement merge = default;
        await Poll.UntilAsync(async () =>
        {
            merge = await Client.GetFromJsonAsync<JsonElement>(location);
            return merge.GetProperty("status").GetString() is "succeeded" or "failed" or "cancelled";
        }, limit, () => StuckAsync(location, merge, limit), everyMilliseconds: 50);
        return merge;
    }

    /// <summary>Where a merge that did not finish in time stands: its state, its events and the worker's last lines, so a timeout says why.</summary>
    private async Task<string> StuckAsync(string location, JsonElement merge, TimeSpan limit)
    {
        var events = await Client.GetStringAsync(location + "/events");
        return $"{location} did not finish in {limit}: {merge}\nevents: {events}\nworker log:\n{string.Join("\n", WorkerLog.Lines.TakeLast(30))}";
    }
}
