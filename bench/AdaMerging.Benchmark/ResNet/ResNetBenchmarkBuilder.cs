using System.Diagnostics;
using System.Text.Json;
using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark.ResNet;

/// <summary>Everything that decides the ResNet-18 benchmark's files; the build is cached under a folder named by its hash.</summary>
public sealed record ResNetBenchmarkSettings
{
    public int Seed { get; init; } = 1;
    /// <summary>Comma-separated task names to build; empty builds all six.</summary>
    public string Tasks { get; init; } = "";
    public int ImageSize { get; init; } = 64;
    public int TrainImagesPerTask { get; init; } = 4000;
    public int TestImagesPerTask { get; init; } = 500;
    public int FineTuneSteps { get; init; } = 200;
    public int FineTuneBatch { get; init; } = 32;
    public double FineTuneLearningRate { get; init; } = 1e-4;
    /// <summary>Batch norms in training mode while fine-tuning (head trained too); by default frozen (docs/reproduction.md, "ResNet-18").</summary>
    public bool TrainingModeBatchNorm { get; init; }
    public int StatisticsImages { get; init; } = 2000;

    public string Hash() => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this)))[..12];
}

/// <summary>
/// Per task, on its test images: the linear probe on frozen ImageNet features (the pre-trained row), the fine-tuned
/// network with its head, and task arithmetic (λ 0.3) and weight averaging made here with statistics merged.
/// </summary>
public sealed record ResNetTaskDiagnostics(string Task, string Origin, int Classes, int TrainImages, TaskScore Probe, TaskScore FineTuned,
    TaskScore TaskArithmetic, TaskScore WeightAveraging, double TaskVectorNorm);

public sealed record ResNetBuildDiagnostics(ResNetBenchmarkSettings Settings, string Model, IReadOnlyList<ResNetTaskDiagnostics> Tasks,
    double[][] TaskVectorCosines, double BuildSeconds);

/// <summary>
/// Builds the ResNet-18 benchmark (docs/reproduction.md, "ResNet-18"): from the converted ImageNet weights
/// (bench/resnet18.sh), per task a linear probe on frozen features, then the network fine-tuned from it with its head;
/// written as the base folder, one folder per task whose <c>fc</c> is its head, and the test sets as tensor datasets.
/// </summary>
public sealed class ResNetBenchmarkBuilder(ResNetBenchmarkSettings settings, string modelDirectory, string rawDirectory, string outputRoot)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public string Directory => Path.Combine(outputRoot, $"seed-{settings.Seed}-{settings.Hash()}");

    public string Build()
    {
        if (BuildFolder.IsBuilt(Directory)) { Log($"cached: {Directory}"); return Directory; }
        var staging = BuildFolder.FreshStaging(Directory);
        random.manual_seed(settings.Seed);
        var files = System.IO.Directory.GetFiles(modelDirectory).ToDictionary(f => Path.GetFileName(f), f => f);
        using var folder = ModelFolder.Open(files);
        var spec = folder.Spec as ResNetSpec ?? throw new InvalidOperationException($"{modelDirectory} is not a ResNet");
        var θ0 = ModelParameters.Load(folder.Weights, ScalarType.Float32, CPU, spec.ReadsTensor);
        var counters = folder.Weights.Tensors.Where(t => !t.DType.IsFloatingPoint).ToDictionary(t => t.Name, t => folder.Weights.Read(t.Name, ScalarType.Int64));
        var training = new ResNetTraining(new ResNetModel(spec.Config, spec.Names), spec.Preprocessing.Normalization);
        var tasks = ResNetTasks.Load(rawDirectory, settings.ImageSize, settings.TrainImagesPerTask, settings.TestImagesPerTask, settings.Seed)
            .Where(t => settings.Tasks.Length == 0 || settings.Tasks.Split(',').Contains(t.Name)).ToList();
        Log($"{tasks.Count} tasks at {settings.ImageSize} px: {string.Join(", ", tasks.Select(t => $"{t.Name} ({t.TrainImages.shape[0]} train, {t.TestImages.shape[0]} test)"))}");

        BuildFolder.Copy(modelDirectory, Path.Combine(staging, "base"));
        var probes = new Dictionary<string, LinearHead>();
        var heads = new Dictionary<string, LinearHead>();
        var fineTuned = new Dictionary<string, Dictionary<string, Tensor>>();
        foreach (var (t, i) in tasks.Select((t, i) => (t, i)))
        {
            using (var features = training.Features(θ0, t.TrainImages))
                probes[t.Name] = LinearProbes.Train(features, t.TrainLabels, t.Classes.Count, settings.Seed * 100 + i);
            Log($"{t.Name}: linear probe trained");
            (fineTuned[t.Name], heads[t.Name]) = training.FineTune(θ0, probes[t.Name], t.TrainImages, t.TrainLabels,
                new ResNetTrainingSettings(settings.FineTuneSteps, settings.FineTuneBatch, settings.FineTuneLearningRate, 0.9, 1e-4, settings.Seed * 100 + i,
                    settings.TrainingModeBatchNorm),
                settings.StatisticsImages, (step, loss) => Log($"{t.Name}: fine-tuning step {step}: loss {loss:F3}"));
            var θ = fineTuned[t.Name].Concat(counters).ToDictionary(kv => kv.Key, kv => kv.Value);
            θ["fc.weight"] = heads[t.Name].Weight;
            θ["fc.bias"] = heads[t.Name].Bias;
            var taskFolder = Path.Combine(staging, "tasks", t.Name);
            System.IO.Directory.CreateDirectory(taskFolder);
            SafetensorsWriter.Save(Path.Combine(taskFolder, "model.safetensors"), θ, new Dictionary<string, string> { ["format"] = "pt" });
            File.Copy(files[ResNetPreprocessing.FileName], Path.Combine(taskFolder, ResNetPreprocessing.FileName));
            BenchmarkBuilder.SaveDataset(Path.Combine(staging, "datasets", t.Name + ".safetensors"), t.TestImages, t.TestLabels);
        }
        var diagnostics = Measure(training, θ0, fineTuned, tasks, probes, heads, spec.Describe());
        File.WriteAllText(Path.Combine(staging, "build.json"), JsonSerializer.Serialize(diagnostics, Json.Indented));
        System.IO.Directory.Move(staging, Directory);
        Log($"built {Directory}");
        return Directory;
    }

    private ResNetBuildDiagnostics Measure(ResNetTraining training, Dictionary<string, Tensor> θ0, Dictionary<string, Dictionary<string, Tensor>> fineTuned,
        IReadOnlyList<ResNetTask> tasks, Dictionary<string, LinearHead> probes, Dictionary<string, LinearHead> heads, string model)
    {
        using var _ = no_grad();
        var names = tasks.Select(t => t.Name).ToList();
        // Task vectors over what fine-tuning trained (weights and batch-norm affines); the running statistics are not parameters.
        var trained = θ0.Keys.Where(k => !ResNetNames.IsRunningStatistic(k)).ToList();
        var vectors = TaskVectorGeometry.Vectors(θ0, fineTuned, trained);
        var cosines = TaskVectorGeometry.Cosines(vectors, names);
        // Running statistics merged with their weight's coefficient (batchNormStatistics: merge), as the service does.
        var arithmetic = TaskVectorGeometry.Combine(θ0, fineTuned, 0.3);
        var averaged = TaskVectorGeometry.Combine(θ0, fineTuned, 1.0 / names.Count);
        var rows = tasks.Select(t =>
        {
            TaskScore Score(IReadOnlyDictionary<string, Tensor> θ, LinearHead? head = null)
            {
                using var features = training.Features(θ, t.TestImages);
                using var logits = (head ?? heads[t.Name]).Logits(features);
                return LinearProbes.Score(logits, t.TestLabels);
            }
            var row = new ResNetTaskDiagnostics(t.Name, t.Origin, t.Classes.Count, (int)t.TrainImages.shape[0], Score(θ0, probes[t.Name]), Score(fineTuned[t.Name]),
                Score(arithmetic), Score(averaged), vectors[t.Name].norm().item<float>());
            Log($"  {row}");
            return row;
        }).ToList();
        return new ResNetBuildDiagnostics(settings, model, rows, cosines, _clock.Elapsed.TotalSeconds);
    }

    private void Log(string message) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");
}
