using AdaMerging.Infrastructure.Postgres;

namespace AdaMerging.Tests.Support;

/// <summary>
/// One real PostgreSQL cluster for the whole test run, started from the system's binaries into a temp folder
/// (as the 'postgres' user when running as root). Its watchdog removes it when the test host exits, however it exits.
/// </summary>
public static class TestPostgres
{
    private static readonly Lazy<Task<PostgresCluster>> Cluster = new(() => PostgresCluster.StartEphemeralAsync());

    /// <summary>A fresh, empty database on the shared cluster; each test class takes its own.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var cluster = await Cluster.Value;
        var name = "t_" + Guid.NewGuid().ToString("N")[..16];
        await cluster.CreateDatabaseAsync(name);
        return cluster.ConnectionString(name);
    }

    public static Task<PostgresCluster> ClusterAsync() => Cluster.Value;
}
