using System.Diagnostics;
using System.Runtime.InteropServices;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The worker or the API as a real process of the built service (from the test's output folder), configured through
/// its environment as a deployment would be; its output goes to a log file the test can read.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;

    private ServiceProcess(Process process, string log)
    {
        _process = process;
        LogPath = log;
    }

    public string LogPath { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Waits up to <paramref name="wait"/> for the process to end by itself; its exit code, or null if it still runs.</summary>
    public int? ExitCodeWithin(TimeSpan wait)
    {
        if (!_process.WaitForExit(wait)) return null;
        _process.WaitForExit(); // and its output drained into the log
        return _process.ExitCode;
    }

    public static ServiceProcess Start(string assembly, IReadOnlyDictionary<string, string?> settings, string log, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, assembly));
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (key, value) in settings) start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        var process = Process.Start(start)!;
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        var sync = TextWriter.Synchronized(writer);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) sync.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) sync.WriteLine(e.Data); };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => sync.Flush();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ServiceProcess(process, log);
    }

    public static ServiceProcess Worker(IReadOnlyDictionary<string, string?> settings, string log) =>
        Start("AdaMerging.Worker.dll", settings, log, "serve");

    /// <summary>SIGKILL: no handler runs, nothing is flushed or released.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a container; waits for the process to exit.</summary>
    public bool Terminate(TimeSpan wait)
    {
        if (SendSignal(_process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
        return _process.WaitForExit(wait);
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);
}
