using System.Globalization;
using System.Security.Cryptography;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Postgres;

namespace AdaMerging.Worker.Cli;

/// <summary>One-off local runs of what the service does, without a database or queue.</summary>
public static class Commands
{
    private const string Usage = """
        usage: AdaMerging.Worker [serve]                      run the merge worker (Hangfire server)
               AdaMerging.Worker merge --base F --task F [--task F ...] [--lambda 0.3] --out F [--device auto|cpu|cuda]
                                                               task arithmetic on local safetensors files
               AdaMerging.Worker sample --out DIR [--tasks 3] [--seed 1] [--width 64] [--layers 2]
                                                               write a random CLIP-ViT-shaped base and fine-tuned checkpoints
               AdaMerging.Worker inspect F                     tensors, parameters and SHA-256 of a safetensors file
               AdaMerging.Worker db-stop [--data DIR]          stop the embedded PostgreSQL cluster
               AdaMerging.Worker bench-store [--dir DIR]       time header reads and loads of ViT-B/32 and ViT-L/14 checkpoints
               AdaMerging.Worker make-checkpoint --out F [--gb 2]  a large safetensors file for upload benchmarks
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var options = CommandOptions.Parse(args.Skip(1));
            switch (args[0])
            {
                case "merge": return Merge(options);
                case "sample": return SampleCheckpoints.Write(options);
                case "inspect": return Inspect(options);
                case "bench-store": return StoreBenchmark.Run(options);
                case "make-checkpoint": return StoreBenchmark.MakeCheckpoint(options);
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
        catch (Exception e) when (e is ArgumentException or SafetensorsFormatException or IncompatibleCheckpointsException or IOException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static int Merge(CommandOptions options)
    {
        var result = TaskArithmetic.Merge(
            options.Required("base"),
            options.All("task"),
            double.Parse(options.One("lambda", "0.3"), CultureInfo.InvariantCulture),
            options.Required("out"),
            TorchDevice.Choose(options.One("device", "auto")));
        Console.WriteLine($"merged {result.MergedTensors} tensors, copied {result.CopiedTensors}, {result.Parameters} parameters " +
            $"in {result.Elapsed.TotalMilliseconds:F0} ms -> {options.Required("out")}");
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
