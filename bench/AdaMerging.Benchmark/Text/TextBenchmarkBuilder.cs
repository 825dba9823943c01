using System.Diagnostics;
using System.Text.Json;
using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark.Text;

/// <summary>Everything that decides the text benchmark's files; the build is cached under a folder named by its hash.</summary>
public sealed record TextBenchmarkSettings
{
    public int Seed { get; init; } = 1;
    /// <summary>Comma-separated task names to build; empty builds all five.</summary>
    public string Tasks { get; init; } = "";
    public int TrainTextsPerTask { get; init; } = 2000;
    /// <summary>Texts a task's linear probe is trained on, apart from the fine-tuning texts (so fine-tuning sees the probe's real errors).</summary>
    public int ProbeTextsPerTask { get; init; } = 500;
    public int TestTextsPerTask { get; init; } = 500;
    /// <summary>Tokens a text is cut to, here and in the service's merges (their maxSequenceLength).</summary>
    public int MaxTokens { get; init; } = 64;
    public int FineTuneSteps { get; init; } = 150;
    public int FineTuneBatch { get; init; } = 32;
    public double FineTuneLearningRate { get; init; } = 5e-5;
    public double WeightDecay { get; init; } = 0.01;

    public string Hash() => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(this)))[..12];
}

/// <summary>Per task, on its test texts: the linear probe on frozen MiniLM, the fine-tuned encoder, task arithmetic (λ 0.3) and weight averaging.</summary>
public sealed record TextTaskDiagnostics(string Task, string Origin, int Classes, int TrainTexts, int TestTexts, double MeanTestTokens,
    TaskScore Probe, TaskScore FineTuned, TaskScore TaskArithmetic, TaskScore WeightAveraging, double TaskVectorNorm);

public sealed record TextBuildDiagnostics(TextBenchmarkSettings Settings, string Model, double BaseNorm, IReadOnlyList<TextTaskDiagnostics> Tasks,
    double[][] TaskVectorCosines, double BuildSeconds);

/// <summary>
/// Builds the text benchmark (docs/reproduction.md, "MiniLM"): from the converted all-MiniLM-L6-v2 (bench/minilm.sh),
/// per task a linear probe on its frozen mean-pooled features of some training texts, then every encoder weight
/// fine-tuned through that head on the other training texts;
/// written as the base folder, one fine-tuned BertModel folder per task, each task's head as a head file, and the test
/// texts as JSON Lines datasets the service tokenises itself.
/// </summary>
public sealed class TextBenchmarkBuilder(TextBenchmarkSettings settings, string modelDirectory, string rawDirectory, string outputRoot)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public string Directory => Path.Combine(outputRoot, $"seed-{settings.Seed}-{settings.Hash()}");

    public string Build()
    {
        if (BuildFolder.IsBuilt(Directory)) { Log($"cached: {Directory}"); return Directory; }
        var staging = BuildFolder.FreshStaging(Directory);
        manual_seed(settings.Seed);
        var files = System.IO.Directory.GetFiles(modelDirectory).ToDictionary(f => Path.GetFileName(f), f => f);
        using var folder = ModelFolder.Open(files);
        var spec = folder.Spec as BertSpec ?? throw new InvalidOperationException($"{modelDirectory} is not a BERT-family encoder");
        var θ0 = ModelParameters.Load(folder.Weights, ScalarType.Float32, CPU, spec.ReadsTensor);
        var training = new TextTraining(spec.CreateModel(folder.Weights), WordPieceTokenizer.Open(folder.SideFiles), settings.MaxTokens);
        var tasks = TextTasks.Load(rawDirectory, settings.ProbeTextsPerTask + settings.TrainTextsPerTask, settings.TestTextsPerTask, settings.Seed)
            .Where(t => settings.Tasks.Length == 0 || settings.Tasks.Split(',').Contains(t.Name)).ToList();
        Log($"{tasks.Count} tasks: {string.Join(", ", tasks.Select(t => $"{t.Name} ({t.Classes.Count} classes, {t.TrainTexts.Count} train, {t.TestTexts.Count} test)"))}");

        BuildFolder.Copy(modelDirectory, Path.Combine(staging, "base"));
        var heads = new Dictionary<string, LinearHead>();
        var fineTuned = new Dictionary<string, Dictionary<string, Tensor>>();
        foreach (var (t, i) in tasks.Select((t, i) => (t, i)))
        {
            // The first texts (a seeded shuffle of every class) train the probe, the rest fine-tune the encoder through it.
            int probeCount = Math.Min(settings.ProbeTextsPerTask, t.TrainTexts.Count / 5);
            var ids = training.Encode(t.TrainTexts);
            using (var features = training.Features(θ0, ids[..probeCount]))
                heads[t.Name] = LinearProbes.Train(features, tensor(t.TrainLabels[..probeCount]), t.Classes.Count, settings.Seed * 100 + i);
            Log($"{t.Name}: linear probe trained on {probeCount} texts");
            fineTuned[t.Name] = training.FineTune(θ0, heads[t.Name], ids[probeCount..], t.TrainLabels[probeCount..],
                new TextTrainingSettings(settings.FineTuneSteps, settings.FineTuneBatch, settings.FineTuneLearningRate, settings.WeightDecay, settings.Seed * 100 + i),
                (step, loss) => Log($"{t.Name}: fine-tuning step {step}: loss {loss:F3}"));
            var taskFolder = Path.Combine(staging, "tasks", t.Name);
            BuildFolder.Copy(modelDirectory, taskFolder, except: "model.safetensors");
            SafetensorsWriter.Save(Path.Combine(taskFolder, "model.safetensors"), fineTuned[t.Name], new Dictionary<string, string> { ["format"] = "pt" });
            SaveHead(Path.Combine(staging, "heads", t.Name + ".safetensors"), heads[t.Name], t.Classes);
            SaveDataset(Path.Combine(staging, "datasets", t.Name + ".jsonl"), t.TestTexts, t.TestLabels);
        }
        var diagnostics = Measure(training, θ0, fineTuned, tasks, heads, spec.Describe());
        File.WriteAllText(Path.Combine(staging, "build.json"), JsonSerializer.Serialize(diagnostics, Json.Indented));
        System.IO.Directory.Move(staging, Directory);
        Log($"built {Directory}");
        return Directory;
    }

    private TextBuildDiagnostics Measure(TextTraining training, Dictionary<string, Tensor> θ0, Dictionary<string, Dictionary<string, Tensor>> fineTuned,
        IReadOnlyList<TextTask> tasks, Dictionary<string, LinearHead> heads, string model)
    {
        using var _ = no_grad();
        var names = tasks.Select(t => t.Name).ToList();
        var trained = θ0.Keys.Where(k => θ0[k].is_floating_point()).ToList();
        var vectors = TaskVectorGeometry.Vectors(θ0, fineTuned, trained);
        var cosines = TaskVectorGeometry.Cosines(vectors, names);
        var arithmetic = TaskVectorGeometry.Combine(θ0, fineTuned, 0.3);
        var averaged = TaskVectorGeometry.Combine(θ0, fineTuned, 1.0 / names.Count);
        var rows = tasks.Select(t =>
        {
            var ids = training.Encode(t.TestTexts);
            TaskScore Score(IReadOnlyDictionary<string, Tensor> θ)
            {
                using var features = training.Features(θ, ids);
                using var logits = heads[t.Name].Logits(features);
                return LinearProbes.Score(logits, tensor(t.TestLabels));
            }
            var row = new TextTaskDiagnostics(t.Name, t.Origin, t.Classes.Count, t.TrainTexts.Count, t.TestTexts.Count, ids.Average(i => i.Length),
                Score(θ0), Score(fineTuned[t.Name]), Score(arithmetic), Score(averaged), vectors[t.Name].norm().item<float>());
            Log($"  {row}");
            return row;
        }).ToList();
        double baseNorm = cat(trained.Select(k => θ0[k].flatten()).ToList()).norm().item<float>();
        return new TextBuildDiagnostics(settings, model, baseNorm, rows, cosines, _clock.Elapsed.TotalSeconds);
    }

    /// <summary>A task's head as the service reads a head file: weight [C, 384], bias [C], features not normalised, its class names.</summary>
    private static void SaveHead(string path, LinearHead head, IReadOnlyList<string> classes)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["weight"] = head.Weight, ["bias"] = head.Bias },
            new Dictionary<string, string> { ["normalize"] = "false", ["classes"] = JsonSerializer.Serialize(classes) });
    }

    /// <summary>The test texts as JSON Lines, {"text": …, "label": …} a line, as a user uploads them.</summary>
    private static void SaveDataset(string path, IReadOnlyList<string> texts, long[] labels)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllLines(path, texts.Select((text, i) => JsonSerializer.Serialize(new { text, label = labels[i] })));
    }

    private void Log(string message) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");
}
