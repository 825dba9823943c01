using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace AdaMerging.Infrastructure.Postgres;

/// <summary>
/// A private PostgreSQL cluster in a folder of its own, on a free loopback port and no Unix socket.
/// Persistent clusters (the service's embedded default) keep their data and port between runs; ephemeral ones
/// (tests) run without fsync, and a watchdog stops and deletes them when the owning process dies, however it dies.
/// </summary>
public sealed class PostgresCluster : IAsyncDisposable
{
    private readonly bool _ephemeral;

    private PostgresCluster(string directory, int port, bool ephemeral)
    {
        Directory = directory;
        Port = port;
        _ephemeral = ephemeral;
    }

    public string Directory { get; }

    public int Port { get; }

    private string DataDirectory => Path.Combine(Directory, "pgdata");

    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
    }.ConnectionString;

    /// <summary>
    /// Starts (creating if needed) the persistent cluster in <paramref name="directory"/>, or joins it if running, and
    /// makes sure <paramref name="database"/> exists. A file lock makes concurrent callers (API and worker) take turns.
    /// </summary>
    public static async Task<PostgresCluster> StartPersistentAsync(string directory, string database, CancellationToken ct = default)
    {
        directory = Path.GetFullPath(directory);
        System.IO.Directory.CreateDirectory(directory);
        using var gate = await AcquireLockAsync(directory + ".lock", ct);
        var cluster = new PostgresCluster(directory, ReadPort(directory) ?? FreePort(), ephemeral: false);
        if (!await cluster.IsRunningAsync(ct))
        {
            if (!File.Exists(Path.Combine(cluster.DataDirectory, "PG_VERSION"))) await cluster.InitAsync(fsync: true, ct);
            var port = IsPortFree(cluster.Port) ? cluster.Port : FreePort();
            cluster = new PostgresCluster(directory, port, ephemeral: false);
            await File.WriteAllTextAsync(Path.Combine(directory, "port"), port.ToString(CultureInfo.InvariantCulture), ct);
            await cluster.StartServerAsync(fsync: true, ct);
        }
        if (!await cluster.DatabaseExistsAsync(database, ct)) await cluster.CreateDatabaseAsync(database, ct);
        return cluster;
    }

    public async Task<bool> DatabaseExistsAsync(string name, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        command.Parameters.AddWithValue("name", name);
        return await command.ExecuteScalarAsync(ct) is not null;
    }

    /// <summary>A throw-away cluster under the temp folder, torn down on dispose or when this process dies.</summary>
    public static async Task<PostgresCluster> StartEphemeralAsync(CancellationToken ct = default)
    {
        var directory = Path.Combine(Path.GetTempPath(), "adamerging-pg-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var cluster = new PostgresCluster(directory, FreePort(), ephemeral: true);
        try
        {
            await cluster.InitAsync(fsync: false, ct);
            await cluster.StartServerAsync(fsync: false, ct);
            cluster.StartWatchdog(Environment.ProcessId);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the persistent cluster in <paramref name="directory"/> if it runs.</summary>
    public static async Task StopAsync(string directory, CancellationToken ct = default)
    {
        var cluster = new PostgresCluster(Path.GetFullPath(directory), 0, ephemeral: false);
        if (await cluster.IsRunningAsync(ct)) await cluster.StopServerAsync(ct);
    }

    /// <summary>Stops this cluster's server (fast shutdown: sessions are ended), as an operator's restart begins.</summary>
    public Task StopServerAsync() => StopServerAsync(CancellationToken.None);

    /// <summary>Starts this cluster's server again on its port.</summary>
    public Task StartServerAsync() => StartServerAsync(fsync: !_ephemeral, CancellationToken.None);

    public async Task CreateDatabaseAsync(string name, CancellationToken ct = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString());
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_ephemeral) return;
        try
        {
            await StopServerAsync(CancellationToken.None);
        }
        finally
        {
            TryDelete(Directory);
        }
    }

    private async Task InitAsync(bool fsync, CancellationToken ct)
    {
        await PostgresBinaries.HandOverAsync(Directory, ct);
        var args = new List<string> { "-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale" };
        if (!fsync) args.Add("--no-sync");
        await PostgresBinaries.RunToolAsync("initdb", args, ct);
    }

    private async Task StartServerAsync(bool fsync, CancellationToken ct)
    {
        // A throw-away cluster hosts one database per test service (API, worker and Hangfire servers each pool connections).
        var settings = $"-p {Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections={(_ephemeral ? 600 : 200)}";
        if (!fsync) settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        await PostgresBinaries.RunToolAsync("pg_ctl",
            ["-D", DataDirectory, "-l", Path.Combine(Directory, "server.log"), "-w", "-t", "60", "-o", settings, "start"], ct);
    }

    private async Task StopServerAsync(CancellationToken ct) =>
        await PostgresBinaries.RunToolAsync("pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop"], ct, allowFailure: true);

    private async Task<bool> IsRunningAsync(CancellationToken ct) =>
        File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))
        && (await PostgresBinaries.RunToolAsync("pg_ctl", ["-D", DataDirectory, "status"], ct, allowFailure: true)).Length > 0;

    /// <summary>
    /// A detached shell that outlives this process: once the owner is gone it stops the server and deletes the folder,
    /// so a crashed or killed test host leaves no cluster behind.
    /// </summary>
    private void StartWatchdog(int ownerPid)
    {
        var stop = string.Join(' ', PostgresBinaries.StartInfo(Path.Combine(PostgresBinaries.BinDirectory, "pg_ctl"),
            ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], asServerUser: true).ArgumentList.Prepend(
            PostgresBinaries.IsRoot ? "runuser" : "").Where(s => s.Length > 0).Select(Quote));
        var script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {ownerPid}; do sleep 1; done; {stop}; rm -rf {Quote(Directory)}";
        var info = new ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var a in new[] { "sh", "-c", script }) info.ArgumentList.Add(a);
        using var _ = Process.Start(info);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static int? ReadPort(string directory)
    {
        var file = Path.Combine(directory, "port");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var p) ? p : null;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool IsPortFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken ct)
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (waited.Elapsed < TimeSpan.FromMinutes(2))
            {
                await Task.Delay(200, ct);
            }
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (System.IO.Directory.Exists(directory)) System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // The watchdog deletes it once the server has let go of its files.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
