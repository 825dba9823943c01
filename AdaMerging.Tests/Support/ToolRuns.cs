using System.Diagnostics;

namespace AdaMerging.Tests.Support;

/// <summary>A tool run to its end (a linter, a generator, a compiler), with its output for the assertion's message.</summary>
public static class ToolRuns
{
    public sealed record Outcome(int ExitCode, string Output);

    /// <summary>The tool's output; the test fails, with that output, when the tool does not exit 0.</summary>
    public static async Task<string> SucceedAsync(string program, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var run = await RunAsync(program, args, workingDirectory, timeout);
        Assert.True(run.ExitCode == 0, $"{program} {string.Join(' ', args)}: {run.Output}");
        return run.Output;
    }

    public static async Task<Outcome> RunAsync(string program, IEnumerable<string> args, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["npm_config_update_notifier"] = "false";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} ran past {timeout}: {await stdout}{await stderr}");
        }
        return new Outcome(process.ExitCode, (await stdout) + (await stderr));
    }
}
