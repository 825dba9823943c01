using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// The forward passes on a device against what real PyTorch computed for the committed fixtures, and the AdaMerging
/// objective's λ gradient on the device against the CPU's.
/// </summary>
public static class ReferenceChecks
{
    private static readonly string[] TextFiles = ["model.safetensors", "config.json", "vocab.json", "merges.txt"];

    public static IEnumerable<CheckResult> Run(string fixtures, Device device, DeviceTolerances tolerances)
    {
        yield return Vision(Path.Combine(fixtures, "clip_tiny"), device, tolerances.Reference);
        yield return Text(Path.Combine(fixtures, "clip_text"), device, tolerances.Reference);
        yield return LambdaGradient(device, tolerances.Gradient);
    }

    /// <summary>Image features and head logits of the tiny CLIP against PyTorch's, relative to the largest reference value.</summary>
    private static CheckResult Vision(string dir, Device device, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = Path.Combine(dir, "model.safetensors"),
            ["config.json"] = Path.Combine(dir, "config.json"),
        });
        using var io = SafetensorsFile.Open(Path.Combine(dir, "io.safetensors"));
        var (encoder, θ) = ModelParameters.LoadClip(folder, ScalarType.Float32, device);
        try
        {
            using var head = ClassificationHead.Load(Path.Combine(dir, "head.safetensors"), ScalarType.Float32, device);
            using var _ = no_grad();
            var features = encoder.Forward(θ, io.Read("pixel_values").to(device));
            var logits = head.Logits(features);
            var difference = Math.Max(Relative(io.Read("features"), features), Relative(io.Read("logits"), logits));
            return new CheckResult("vision tower and head against PyTorch", difference, tolerance, "largest relative difference");
        }
        finally
        {
            ModelParameters.Dispose(θ);
        }
    }

    /// <summary>Text embeddings of the reference's texts (tokenised by the service's tokenizer) against PyTorch's.</summary>
    private static CheckResult Text(string dir, Device device, double tolerance)
    {
        using var scope = NewDisposeScope();
        using var folder = ModelFolder.Open(TextFiles.ToDictionary(f => f, f => Path.Combine(dir, f)));
        using var view = folder.HuggingFaceView();
        var config = ClipTextLayout.Infer(view, folder.ConfigJson);
        var θ = ModelParameters.Load(view, ScalarType.Float32, device, n => !n.EndsWith("position_ids", StringComparison.Ordinal));
        try
        {
            var tokenizer = folder.Tokenizer() ?? throw new InvalidOperationException($"{dir} has no tokenizer files");
            using var reference = SafetensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
            var texts = ReferenceTexts(Path.Combine(dir, "reference.json")).Select(t => tokenizer.Encode(t, config.Context)).ToList();
            using var _ = no_grad();
            var actual = new ClipTextEncoder(config).Forward(θ, texts, tokenizer.EndId);
            return new CheckResult("text tower against PyTorch", Relative(reference.Read("text_embeddings"), actual), tolerance, "largest relative difference");
        }
        finally
        {
            ModelParameters.Dispose(θ);
        }
    }

    /// <summary>The texts the reference embedded: those within the 77-token context.</summary>
    private static List<string> ReferenceTexts(string path)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("texts").EnumerateArray()
            .Where(t => t.GetProperty("ids").ValueKind != System.Text.Json.JsonValueKind.Null)
            .Select(t => t.GetProperty("text").GetString()!).ToList();
    }

    /// <summary>∂L/∂λ (layer-wise, 3 tasks, fixed batches) of the small benchmark shape on the device against the CPU.</summary>
    private static CheckResult LambdaGradient(Device device, double tolerance)
    {
        var onCpu = Gradient(CPU);
        var onDevice = Gradient(device);
        return new CheckResult("AdaMerging λ gradient against the CPU", Relative(onCpu, onDevice), tolerance, "largest relative difference");
    }

    private static Tensor Gradient(Device device)
    {
        using var scope = NewDisposeScope();
        using var problem = new RandomProblem(ModelShapes.Named("small"), 3, 4, ScalarType.Float32, device: device);
        using var run = new AdaMergingRun(problem.Encoder, new Dictionary<string, Tensor>(), problem.Vectors,
            LayerMap.Create(problem.Vectors.Names, Granularity.Layer, LayerUnit.Tensor), problem.Tasks, new AdaMergingSettings { Steps = 1, BatchSize = 4 });
        using var lambda = full([run.Layers.Rows, 3], 0.3, dtype: ScalarType.Float32, device: device);
        long[] batch = [0, 3, 5, 7];
        var (_, gradient) = run.ObjectiveAndGradient(lambda, [batch, batch, batch]);
        return gradient.cpu().MoveToOuterDisposeScope();
    }

    /// <summary>max |expected − actual| / max |expected|, computed on the CPU.</summary>
    public static double Relative(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        if (!expected.shape.SequenceEqual(actual.shape)) return double.NaN;
        var e = expected.cpu().to_type(ScalarType.Float64);
        var a = actual.cpu().to_type(ScalarType.Float64);
        var largest = e.abs().max().item<double>();
        var difference = (e - a).abs().max().item<double>();
        return difference == 0 ? 0 : difference / largest;
    }
}
