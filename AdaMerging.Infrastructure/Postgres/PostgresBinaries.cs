using System.Diagnostics;

namespace AdaMerging.Infrastructure.Postgres;

/// <summary>
/// Runs the system's PostgreSQL server programs (initdb, pg_ctl). initdb refuses to run as root, so as root
/// every program runs as the 'postgres' user through runuser.
/// </summary>
internal static class PostgresBinaries
{
    public static bool IsRoot => Environment.UserName == "root";

    public static string BinDirectory { get; } = FindBinDirectory();

    private static string FindBinDirectory()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable("ADAMERGING_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Where(d => File.Exists(Path.Combine(d, "bin", "initdb")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null) return Path.Combine(newest, "bin");
        }
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (File.Exists(Path.Combine(dir, "initdb"))) return dir;
        throw new InvalidOperationException(
            "PostgreSQL server programs (initdb, pg_ctl) were not found: install Debian's 'postgresql' package or set ADAMERGING_PG_BIN");
    }

    /// <summary>Gives a directory to the user the server runs as, who must also be able to reach it.</summary>
    public static async Task HandOverAsync(string directory, CancellationToken ct)
    {
        if (!IsRoot) return;
        await RunAsync("chown", ["-R", "postgres:postgres", directory], asServerUser: false, ct);
        if (!await SucceedsAsync("test", ["-w", directory], ct))
            throw new InvalidOperationException(
                $"PostgreSQL runs as the 'postgres' user when started by root, and that user cannot reach {directory}: " +
                "let others traverse its parent folders (chmod o+x), choose another AdaMerging:DataRoot, or set ConnectionStrings:Postgres");
    }

    private static async Task<bool> SucceedsAsync(string program, IEnumerable<string> arguments, CancellationToken ct)
    {
        using var process = Process.Start(StartInfo(program, arguments, asServerUser: true))
            ?? throw new InvalidOperationException($"could not start {program}");
        await process.WaitForExitAsync(ct);
        return process.ExitCode == 0;
    }

    public static Task<string> RunToolAsync(string tool, IEnumerable<string> arguments, CancellationToken ct, bool allowFailure = false) =>
        RunAsync(Path.Combine(BinDirectory, tool), arguments, asServerUser: true, ct, allowFailure);

    public static ProcessStartInfo StartInfo(string program, IEnumerable<string> arguments, bool asServerUser)
    {
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asServerUser && IsRoot)
        {
            info.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", program }) info.ArgumentList.Add(a);
        }
        else
        {
            info.FileName = program;
        }
        foreach (var a in arguments) info.ArgumentList.Add(a);
        return info;
    }

    private static async Task<string> RunAsync(string program, IEnumerable<string> arguments, bool asServerUser,
        CancellationToken ct, bool allowFailure = false)
    {
        using var process = Process.Start(StartInfo(program, arguments, asServerUser))
            ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var output = await stdout + await stderr;
        if (process.ExitCode != 0 && !allowFailure)
            throw new InvalidOperationException($"{Path.GetFileName(program)} exited with {process.ExitCode}: {output.Trim()}");
        return process.ExitCode == 0 ? output : "";
    }
}
