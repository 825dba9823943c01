using AdaMerging.Domain.Architectures.Clip;
using System.Globalization;
using AdaMerging.Domain.Checkpoints;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>
/// A random CLIP vision encoder of any shape written as a Hugging Face folder, K seeded fine-tunes of it, a 5-class
/// head and a labeled dataset: inputs for runs whose size matters (memory), as the worker's `run` reads them.
/// </summary>
public static class SyntheticClip
{
    public sealed record Files(string Base, IReadOnlyList<string> Tasks, string Head, string Data);

    public static Files Write(string dir, ClipVisionConfig c, int k, int images, int seed = 5)
    {
        var g = new torch.Generator((ulong)seed);
        var baseDir = Directory.CreateDirectory(Path.Combine(dir, "base")).FullName;
        var theta0 = ClipVisionLayout.ExpectedShapes(c, withProjection: true)
            .ToDictionary(s => s.Name, s => torch.randn(s.Shape.ToArray(), generator: g).Times(0.02));
        TestCheckpoints.Save(Path.Combine(baseDir, "model.safetensors"), theta0);
        File.WriteAllText(Path.Combine(baseDir, "config.json"), string.Create(CultureInfo.InvariantCulture,
            $$"""{"model_type": "clip_vision_model", "hidden_size": {{c.HiddenSize}}, "intermediate_size": {{c.IntermediateSize}}, "num_hidden_layers": {{c.NumHiddenLayers}}, "num_attention_heads": {{c.NumAttentionHeads}}, "image_size": {{c.ImageSize}}, "patch_size": {{c.PatchSize}}, "num_channels": 3, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "projection_dim": {{c.ProjectionDim}}}"""));
        var tasks = Enumerable.Range(0, k).Select(i =>
        {
            var path = Path.Combine(dir, $"task{i}.safetensors");
            TestCheckpoints.Save(path, theta0.ToDictionary(kv => kv.Key, kv => kv.Value.Plus(torch.randn(kv.Value.shape, generator: g).Times(0.002))));
            return path;
        }).ToList();
        var head = Path.Combine(dir, "head.safetensors");
        TestCheckpoints.Save(head, new Dictionary<string, torch.Tensor> { ["weight"] = torch.randn([5, c.ProjectionDim], generator: g) });
        var data = Path.Combine(dir, "data.safetensors");
        TestCheckpoints.Save(data, new Dictionary<string, torch.Tensor>
        {
            ["pixel_values"] = torch.randn([images, 3, c.ImageSize, c.ImageSize], generator: g),
            ["labels"] = torch.randint(0, 5, [images], generator: g),
        });
        foreach (var t in theta0.Values) t.Dispose();
        return new Files(baseDir, tasks, head, data);
    }
}
