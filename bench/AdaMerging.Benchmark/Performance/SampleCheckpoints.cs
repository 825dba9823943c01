using System.Globalization;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// A random base checkpoint in Hugging Face CLIP vision layout and fine-tuned variants of it (base + small seeded
/// perturbations), for demos and smoke tests of the whole service.
/// </summary>
public static class SampleCheckpoints
{
    public static int Write(BenchOptions options)
    {
        var directory = options.Required("out");
        int tasks = int.Parse(options.Get("tasks", "3"), CultureInfo.InvariantCulture);
        int seed = int.Parse(options.Get("seed", "1"), CultureInfo.InvariantCulture);
        int width = int.Parse(options.Get("width", "64"), CultureInfo.InvariantCulture);
        int layers = int.Parse(options.Get("layers", "2"), CultureInfo.InvariantCulture);
        if (tasks is < 1 or > 64) throw new ArgumentException("--tasks must be 1-64");
        if (width is < 8 or > 4096 || width % 8 != 0) throw new ArgumentException("--width must be a multiple of 8 in 8-4096");
        if (layers is < 1 or > 48) throw new ArgumentException("--layers must be 1-48");
        Directory.CreateDirectory(directory);
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator((ulong)seed);
        var theta0 = Layout(width, layers).ToDictionary(t => t.Name, t => Random(t, generator, 0.02));
        SafetensorsWriter.Save(Path.Combine(directory, "base.safetensors"), theta0);
        for (int k = 1; k <= tasks; k++)
        {
            var fineTuned = theta0.ToDictionary(kv => kv.Key,
                kv => kv.Value.is_floating_point() ? kv.Value.Plus(torch.randn(kv.Value.shape, generator: generator).Times(0.005)) : kv.Value);
            SafetensorsWriter.Save(Path.Combine(directory, $"task{k}.safetensors"), fineTuned);
        }
        Console.WriteLine($"wrote base.safetensors and task1..task{tasks}.safetensors to {directory}");
        return 0;
    }

    private static torch.Tensor Random((string Name, long[] Shape, torch.ScalarType Type) t, torch.Generator generator, double scale) =>
        t.Type == torch.ScalarType.Int64
            ? torch.arange(RootedScalars.Of(t.Shape[1]), torch.ScalarType.Int64).reshape(t.Shape)
            : t.Name.Contains("layer_norm", StringComparison.Ordinal) || t.Name.Contains("layrnorm", StringComparison.Ordinal)
                ? (t.Name.EndsWith("weight", StringComparison.Ordinal) ? torch.ones(t.Shape) : torch.zeros(t.Shape))
                : torch.randn(t.Shape, generator: generator).Times(scale);

    /// <summary>The tensors of a CLIP ViT with patch 8 on 32×32 images: 16 patches plus the class token.</summary>
    private static IEnumerable<(string Name, long[] Shape, torch.ScalarType Type)> Layout(int d, int layers)
    {
        const string p = "vision_model.";
        var f = torch.ScalarType.Float32;
        yield return (p + "embeddings.class_embedding", [d], f);
        yield return (p + "embeddings.patch_embedding.weight", [d, 3, 8, 8], f);
        yield return (p + "embeddings.position_embedding.weight", [17, d], f);
        yield return (p + "embeddings.position_ids", [1, 17], torch.ScalarType.Int64);
        yield return (p + "pre_layrnorm.weight", [d], f);
        yield return (p + "pre_layrnorm.bias", [d], f);
        for (int i = 0; i < layers; i++)
        {
            var l = $"{p}encoder.layers.{i}.";
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                yield return (l + $"self_attn.{proj}.weight", [d, d], f);
                yield return (l + $"self_attn.{proj}.bias", [d], f);
            }
            yield return (l + "layer_norm1.weight", [d], f);
            yield return (l + "layer_norm1.bias", [d], f);
            yield return (l + "mlp.fc1.weight", [4 * d, d], f);
            yield return (l + "mlp.fc1.bias", [4 * d], f);
            yield return (l + "mlp.fc2.weight", [d, 4 * d], f);
            yield return (l + "mlp.fc2.bias", [d], f);
            yield return (l + "layer_norm2.weight", [d], f);
            yield return (l + "layer_norm2.bias", [d], f);
        }
        yield return (p + "post_layernorm.weight", [d], f);
        yield return (p + "post_layernorm.bias", [d], f);
        yield return ("visual_projection.weight", [d / 2, d], f);
    }
}
