using AdaMerging.Infrastructure.Persistence;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Infrastructure.Persistence;

/// <summary>
/// Where the database comes from, as an operator deploys it (issue 33): a host without a connection string stops with
/// a message unless the embedded cluster is asked for, and the connection string may come from a secret's file.
/// </summary>
public sealed class DatabaseSettingTests : TempDirectoryTests
{
    private Dictionary<string, string?> Settings(int port) => new()
    {
        ["AdaMerging:DataRoot"] = Dir.File("data"),
        ["AdaMerging:Device"] = "cpu",
        ["Urls"] = $"http://127.0.0.1:{port}",
    };

    [Theory]
    [InlineData("AdaMerging.Api.dll")]
    [InlineData("AdaMerging.Worker.dll")]
    public void A_host_without_a_connection_string_stops_with_a_message_and_starts_no_database(string host)
    {
        using var process = ServiceProcess.Start(host, Settings(ApiProcess.FreePort()), Dir.File("host.log"), host.Contains("Worker", StringComparison.Ordinal) ? ["serve"] : []);
        var exit = process.ExitCodeWithin(TimeSpan.FromSeconds(90));
        var log = File.ReadAllText(process.LogPath);
        Assert.True(exit is not null and not 0, $"the host {(exit is null ? "still runs" : "exited 0")}: {log}");
        Assert.Contains(DatabaseConnection.MissingMessage, log, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Dir.File("data"), "postgres")), "a cluster was created under the data root");
    }

    [Fact]
    public async Task The_connection_string_can_come_from_a_file_named_by_a_FILE_variable()
    {
        var secret = Dir.File("postgres-connection");
        await File.WriteAllTextAsync(secret, await TestPostgres.CreateDatabaseAsync() + "\n"); // as `docker secret` writes it, newline and all
        var port = ApiProcess.FreePort();
        var settings = Settings(port);
        settings["ConnectionStrings:Postgres_FILE"] = secret;
        using var api = ServiceProcess.Start("AdaMerging.Api.dll", settings, Dir.File("api.log"));
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        await ApiProcess.WaitReadyAsync(api, client); // on the connection string from the file
    }
}
