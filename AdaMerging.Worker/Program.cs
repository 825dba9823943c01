using AdaMerging.Worker.Cli;

namespace AdaMerging.Worker;

internal static class Program
{
    /// <summary>No verb (or `serve`): run the Hangfire server. A verb: a one-off command (see `help`).</summary>
    public static async Task<int> Main(string[] args)
    {
        AdaMerging.Domain.Diagnostics.ProcessMemory.ReturnLargeFreesToTheSystem();
        AdaMerging.Domain.Compute.HostMemory.Use(AdaMerging.Domain.Diagnostics.ProcessMemory.Glibc);
        return args.Length == 0 || args[0] == "serve"
            ? await WorkerHost.RunAsync(args.Skip(1).ToArray())
            : await Commands.RunAsync(args);
    }
}
