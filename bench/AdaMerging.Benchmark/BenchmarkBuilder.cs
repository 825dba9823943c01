using AdaMerging.Domain.Architectures.Clip;
using System.Diagnostics;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark;

/// <summary>One task's images as tensors: uint8 [N, 1, 28, 28] and int64 labels.</summary>
internal sealed record TaskTensors(BenchmarkTask Task, Tensor TrainImages, Tensor TrainLabels, Tensor ValidationImages,
    Tensor ValidationLabels, Tensor TestImages, Tensor TestLabels);

/// <summary>
/// Builds the benchmark folder: pre-trains the base encoder on the glyph pretext, makes each task's frozen head from
/// the base alone (class prototypes, CLIP's temperature), fine-tunes one encoder per task with its head frozen, and
/// writes everything as Hugging Face folders, head files and tensor datasets, with a diagnostics file.
/// </summary>
public sealed class BenchmarkBuilder(BenchmarkSettings settings, string rawDirectory, string outputRoot)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public string Directory => Path.Combine(outputRoot, $"seed-{settings.Seed}-{settings.Hash()}");

    public string Build()
    {
        if (BuildFolder.IsBuilt(Directory)) { Log($"cached: {Directory}"); return Directory; }
        var staging = BuildFolder.FreshStaging(Directory);
        torch.random.manual_seed(settings.Seed);
        var config = settings.Config;
        var encoder = new ClipVisionEncoder(config);
        var only = settings.Tasks.Split(',', StringSplitOptions.RemoveEmptyEntries);
        var tasks = BenchmarkTasks.Load(rawDirectory, settings.Seed).Where(t => only.Length == 0 || only.Contains(t.Name)).Select(Split).ToList();
        if (tasks.Count == 0) throw new ArgumentException($"no task is named {settings.Tasks}");
        Log($"loaded {tasks.Count} tasks; model: {config.Describe()}");

        var (θ0, scale, pretextAccuracy) = CachedPretrain(encoder);
        SaveModel(Path.Combine(staging, "base"), config, θ0);
        var diagnostics = new Diagnostics(settings, pretextAccuracy, scale);
        var heads = new Dictionary<string, ClassificationHead>();
        foreach (var t in tasks)
        {
            heads[t.Task.Name] = PrototypeHead(encoder, θ0, t, scale);
            SaveHead(Path.Combine(staging, "heads", t.Task.Name + ".safetensors"), heads[t.Task.Name], t.Task.Classes);
            SaveDataset(Path.Combine(staging, "datasets", t.Task.Name + ".safetensors"), t.TestImages, t.TestLabels);
        }
        var fineTuned = new Dictionary<string, Dictionary<string, Tensor>>();
        foreach (var t in tasks)
        {
            var head = heads[t.Task.Name];
            fineTuned[t.Task.Name] = EncoderTraining.Train(encoder, θ0, t.TrainImages, t.TrainLabels,
                (f, y) => F.cross_entropy(head.Logits(f), y),
                new TrainingSettings(settings.FineTuneSteps, settings.FineTuneBatch, settings.FineTuneLearningRate, 0.1, settings.Seed + 1000,
                    WarmupSteps: settings.FineTuneSteps / 10));
            SaveModel(Path.Combine(staging, "tasks", t.Task.Name), config, fineTuned[t.Task.Name]);
            Log($"fine-tuned {t.Task.Name}");
        }
        diagnostics.Measure(encoder, θ0, fineTuned, tasks, heads);
        File.WriteAllText(Path.Combine(staging, "build.json"), JsonSerializer.Serialize(diagnostics.Result(_clock.Elapsed.TotalSeconds), Json.Indented));
        System.IO.Directory.Move(staging, Directory);
        Log($"built {Directory}");
        return Directory;
    }

    private TaskTensors Split(BenchmarkTask task)
    {
        var order = BenchmarkTasks.Shuffled(task.Train.Count, settings.Seed + 1);
        var validation = task.Train.Select(order[..settings.ValidationImagesPerTask]);
        var train = task.Train.Select(order[settings.ValidationImagesPerTask..]);
        var testOrder = BenchmarkTasks.Shuffled(task.Test.Count, settings.Seed + 2);
        var test = settings.TestImagesPerTask > 0 && settings.TestImagesPerTask < task.Test.Count
            ? task.Test.Select(testOrder[..settings.TestImagesPerTask]) : task.Test;
        return new TaskTensors(task, Images(train), Labels(train), Images(validation), Labels(validation), Images(test), Labels(test));
    }

    /// <summary>The pre-trained base, from data/benchmark/pretrained-HASH when an earlier build with the same pre-training made it.</summary>
    private (Dictionary<string, Tensor> θ0, double Scale, double PretextAccuracy) CachedPretrain(ClipVisionEncoder encoder)
    {
        var cache = Path.Combine(outputRoot, $"pretrained-{settings.PretrainHash()}");
        var summaryPath = Path.Combine(cache, "pretext.json");
        if (File.Exists(summaryPath))
        {
            var summary = JsonSerializer.Deserialize<PretextSummary>(File.ReadAllText(summaryPath))!;
            using var file = SafetensorsFile.Open(Path.Combine(cache, "model.safetensors"));
            Log($"pre-trained base from {cache}");
            return (file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name)), summary.Scale, summary.Accuracy);
        }
        var (θ0, scale, accuracy) = Pretrain(encoder);
        var staging = cache + ".partial";
        SaveModel(staging, settings.Config, θ0);
        File.WriteAllText(Path.Combine(staging, "pretext.json"), JsonSerializer.Serialize(new PretextSummary(scale, accuracy)));
        if (System.IO.Directory.Exists(cache)) System.IO.Directory.Delete(cache, recursive: true);
        System.IO.Directory.Move(staging, cache);
        return (θ0, scale, accuracy);
    }

    private sealed record PretextSummary(double Scale, double Accuracy);

    private (Dictionary<string, Tensor> θ0, double Scale, double PretextAccuracy) Pretrain(ClipVisionEncoder encoder)
    {
        var glyphs = Glyphs.Render(settings.GlyphImages + 2000, BenchmarkTasks.ImageSize, settings.Seed);
        var images = Images(glyphs);
        var labels = Labels(glyphs);
        var trainImages = images.narrow(0, 0, settings.GlyphImages);
        var trainLabels = labels.narrow(0, 0, settings.GlyphImages);
        Log($"rendered {glyphs.Count} glyphs from {Glyphs.FontFiles().Count} fonts");
        var generator = new Generator((ulong)settings.Seed + 7);
        var classWeights = new Parameter(randn([Glyphs.Letters.Length, settings.Config.ProjectionDim], generator: generator).Times(0.02));
        var logScale = new Parameter(tensor((float)Math.Log(1 / 0.07)));    // CLIP's initial temperature, learned as CLIP learns it
        var θ0 = EncoderTraining.Train(encoder, EncoderTraining.Initialize(settings.Config, settings.Seed), trainImages, trainLabels,
            (f, y) => EncoderTraining.CosineCrossEntropy(f, classWeights, logScale.exp().clamp_max(RootedScalars.Of(100)), y),
            new TrainingSettings(settings.PretrainSteps, settings.PretrainBatch, settings.PretrainLearningRate, 0.05, settings.Seed,
                WarmupSteps: settings.PretrainSteps / 20),
            [classWeights, logScale], (step, loss) => Log($"pre-training step {step}: loss {loss:F3}"));
        double scale = Math.Min(100, Math.Exp(logScale.item<float>()));
        using var features = EncoderTraining.Features(encoder, θ0, images.narrow(0, settings.GlyphImages, 2000));
        using var predicted = F.linear(F.normalize(features, p: 2, dim: -1), F.normalize(classWeights.detach(), p: 2, dim: -1)).argmax(-1);
        double accuracy = predicted.eq(labels.narrow(0, settings.GlyphImages, 2000)).to_type(ScalarType.Float64).mean().item<double>();
        Log($"pre-trained: held-out glyph accuracy {accuracy:P1}, learned logit scale {scale:F1}");
        return (θ0, scale, accuracy);
    }

    /// <summary>Zero-shot-like head: each class's mean normalised base feature over a few training examples, at the base's temperature.</summary>
    private ClassificationHead PrototypeHead(ClipVisionEncoder encoder, Dictionary<string, Tensor> θ0, TaskTensors t, double scale)
    {
        int classes = t.Task.Classes.Count;
        var rows = new List<Tensor>();
        var labels = t.TrainLabels.data<long>().ToArray();
        for (int c = 0; c < classes; c++)
        {
            var index = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Take(settings.PrototypesPerClass).Select(i => (long)i).ToArray();
            using var features = EncoderTraining.Features(encoder, θ0, t.TrainImages.index(tensor(index)));
            rows.Add(F.normalize(F.normalize(features, p: 2, dim: -1).mean([0]), p: 2, dim: 0).Times(scale));
        }
        return new ClassificationHead(stack(rows), null, normalizeFeatures: true);
    }

    private static void SaveModel(string directory, ClipVisionConfig config, Dictionary<string, Tensor> θ)
    {
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ModelFolder.ConfigFileName), config.ToJson());
        SafetensorsWriter.Save(Path.Combine(directory, "model.safetensors"), θ);
    }

    private static void SaveHead(string path, ClassificationHead head, IReadOnlyList<string> classes)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["weight"] = head.Weight },
            new Dictionary<string, string> { ["normalize"] = "true", ["classes"] = JsonSerializer.Serialize(classes) });
    }

    /// <summary>Gray uint8 images replicated to RGB, with their labels, as a tensor dataset the service reads.</summary>
    internal static void SaveDataset(string path, Tensor grayImages, Tensor labels)
    {
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var rgb = grayImages.expand(-1, 3, -1, -1).contiguous();
        SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { [TensorDataset.Pixels] = rgb, [TensorDataset.Labels] = labels });
    }

    private static Tensor Images(GrayImages g) => tensor(g.Pixels, [g.Count, 1, g.Height, g.Width]);

    private static Tensor Labels(GrayImages g) => tensor(g.Labels.Select(l => (long)l).ToArray());

    private void Log(string message) => Console.WriteLine($"[{_clock.Elapsed:mm\\:ss}] {message}");
}
