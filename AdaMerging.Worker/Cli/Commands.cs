using AdaMerging.Domain.Jobs;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Infrastructure.Postgres;

namespace AdaMerging.Worker.Cli;

/// <summary>One-off local runs of what the service does, without a database or queue.</summary>
public static class Commands
{
    private const string Usage = """
        usage: AdaMerging.Worker [serve]                      run the merge worker (Hangfire server)
               AdaMerging.Worker run REQUEST.json --out DIR [--device auto|cpu|cuda]
                                                               a merge request (the API's JSON, local paths for ids), as the worker runs it
               AdaMerging.Worker merge --base F --task F [--task F ...] [--method task_arithmetic] [--lambda 0.3] --out DIR
                                                               a quick merge of local checkpoints
               AdaMerging.Worker inspect F                     tensors, parameters and SHA-256 of a safetensors file
               AdaMerging.Worker check-device [--device all|cpu|cuda:N] [--size vit-b-32|small|tiny|vit-l-14] [--tasks 8] [--batch 16] [--steps 3]
                                                               the engine on a device against the PyTorch reference and the CPU, a step's time, memory
                                                               (scripts/gpu-check.sh runs it; docs/deployment.md)
               AdaMerging.Worker db-stop [--data DIR]          stop the embedded PostgreSQL cluster
               AdaMerging.Worker keys create --owner NAME [--admin true]
                                                               create an API key (printed once) in the service's database
        (benchmarks and sample checkpoints: bench/AdaMerging.Benchmark)
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var options = CommandOptions.Parse(args.Skip(1));
            switch (args[0])
            {
                case "merge": return Merge(options);
                case "run": return Run(options);
                case "keys" when options.Positional is ["create"]: return await KeyCommands.CreateAsync(options);
                case "inspect": return Inspect(options);
                case "check-device": return DeviceCheck.Run(options);
                case "db-stop":
                    await PostgresCluster.StopAsync(Path.Combine(options.One("data", new AdaMergingOptions().DataRoot), "postgres"));
                    return 0;
                case "help" or "--help" or "-h":
                    Console.WriteLine(Usage);
                    return 0;
                default:
                    Console.Error.WriteLine($"unknown command '{args[0]}'\n{Usage}");
                    return 2;
            }
        }
        catch (Exception e) when (e is ArgumentException or SafetensorsFormatException or CheckpointFormatException or IncompatibleCheckpointsException or IOException or JsonException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>`run request.json --out DIR`: the API's request with local paths, through the queued job's code path.</summary>
    private static int Run(CommandOptions options)
    {
        var requestPath = options.Positional.Count == 1 ? options.Positional[0] : throw new ArgumentException("run takes one request file");
        var plan = LocalMergeRequest.Read(requestPath).ToPlan(Path.GetDirectoryName(Path.GetFullPath(requestPath))!);
        return Execute(plan, options);
    }

    /// <summary>`merge --base F --task F ... [--method task_arithmetic] [--lambda 0.3] --out DIR`: a quick merge of local files.</summary>
    private static int Merge(CommandOptions options)
    {
        var method = options.One("method", "task_arithmetic");
        Dictionary<string, JsonElement>? opts = options.All("lambda") is [var lambda]
            ? new() { ["lambda"] = JsonSerializer.SerializeToElement(double.Parse(lambda, CultureInfo.InvariantCulture)) }
            : null;
        var request = new LocalMergeRequest(method, options.Required("base"),
            options.All("task").Select((t, i) => new LocalMergeTask($"task{i + 1}", t)).ToList(), opts);
        return Execute(request.ToPlan(Directory.GetCurrentDirectory()), options);
    }

    private static int Execute(MergePlan plan, CommandOptions options)
    {
        var output = options.Required("out");
        torch.set_num_threads(Environment.ProcessorCount);
        MergePhase? lastPhase = null;
        var report = MergeRun.Execute(plan, TorchDevice.Choose(options.One("device", "auto")), output, p =>
        {
            if (p.Phase != lastPhase) Console.WriteLine($"[{p.Elapsed.TotalSeconds,7:F1}s] {p.Phase.Wire()}");
            else if (p.Step % 50 == 0 || p.Step == p.TotalSteps) Console.WriteLine($"[{p.Elapsed.TotalSeconds,7:F1}s]   step {p.Step}/{p.TotalSteps}, objective {p.Objective:F4}");
            lastPhase = p.Phase;
        });
        foreach (var row in report.Accuracy.Append(report.Average).OfType<TaskAccuracy>())
            Console.WriteLine($"{row.Task,-12} merged {row.Merged:P1}  base {row.Base:P1}  individual {row.Individual:P1}  task arithmetic {row.TaskArithmetic:P1}");
        foreach (var row in (report.Completions ?? []).Append(report.CompletionsAverage).OfType<TaskCompletions>())
            Console.WriteLine($"{row.Task,-12} perplexity: merged {row.Merged?.Perplexity:G4}  base {row.Base?.Perplexity:G4}  individual {row.Individual?.Perplexity:G4}  task arithmetic {row.TaskArithmetic?.Perplexity:G4}");
        Console.WriteLine($"{plan.Method.Name}: wrote {string.Join(", ", report.Files)} to {output}");
        return 0;
    }

    private static int Inspect(CommandOptions options)
    {
        var path = options.Positional.Count == 1 ? options.Positional[0] : throw new ArgumentException("inspect takes one file");
        var header = SafetensorsHeader.Read(path);
        using var file = File.OpenRead(path);
        var sha = Convert.ToHexStringLower(SHA256.HashData(file));
        Console.WriteLine($"{path}: {header.Tensors.Count} tensors, {header.ParameterCount} parameters, sha256 {sha}");
        return 0;
    }
}
