using System.Globalization;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// The tensors a CLIP vision encoder has in Hugging Face layout: recognising the layout, inferring the config from
/// shapes when no config.json comes with the weights, and checking weights against a config.
/// </summary>
public static partial class ClipVisionLayout
{
    public const string Prefix = "vision_model.";
    public const string Projection = "visual_projection.weight";

    public static bool IsHuggingFace(ITensorCatalog catalog) =>
        catalog.Find(Prefix + "embeddings.patch_embedding.weight") is not null;

    /// <summary>The shape every tensor must have under <paramref name="c"/>; the projection only if <paramref name="withProjection"/>.</summary>
    public static IEnumerable<(string Name, long[] Shape)> ExpectedShapes(ClipVisionConfig c, bool withProjection)
    {
        long d = c.HiddenSize, i = c.IntermediateSize;
        yield return (Prefix + "embeddings.class_embedding", [d]);
        yield return (Prefix + "embeddings.patch_embedding.weight", [d, c.NumChannels, c.PatchSize, c.PatchSize]);
        yield return (Prefix + "embeddings.position_embedding.weight", [c.Positions, d]);
        yield return (Prefix + "pre_layrnorm.weight", [d]);
        yield return (Prefix + "pre_layrnorm.bias", [d]);
        foreach (var block in BlockShapes(Prefix, c.NumHiddenLayers, d, i)) yield return block;
        yield return (Prefix + "post_layernorm.weight", [d]);
        yield return (Prefix + "post_layernorm.bias", [d]);
        if (withProjection) yield return (Projection, [c.ProjectionDim, d]);
    }

    /// <summary>The residual blocks' tensors under <paramref name="tower"/> (both CLIP towers have the same blocks).</summary>
    public static IEnumerable<(string Name, long[] Shape)> BlockShapes(string tower, int layers, long d, long i)
    {
        for (int l = 0; l < layers; l++)
        {
            var p = $"{tower}encoder.layers.{l}.";
            foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" })
            {
                yield return (p + $"self_attn.{proj}.weight", [d, d]);
                yield return (p + $"self_attn.{proj}.bias", [d]);
            }
            yield return (p + "layer_norm1.weight", [d]);
            yield return (p + "layer_norm1.bias", [d]);
            yield return (p + "mlp.fc1.weight", [i, d]);
            yield return (p + "mlp.fc1.bias", [i]);
            yield return (p + "mlp.fc2.weight", [d, i]);
            yield return (p + "mlp.fc2.bias", [d]);
            yield return (p + "layer_norm2.weight", [d]);
            yield return (p + "layer_norm2.bias", [d]);
        }
    }

    /// <summary>The config the shapes imply: heads are taken as hidden/64 (as open_clip does) and the activation as quick_gelu.</summary>
    public static ClipVisionConfig Infer(ITensorCatalog catalog)
    {
        var patch = Require(catalog, Prefix + "embeddings.patch_embedding.weight", 4);
        var positions = Require(catalog, Prefix + "embeddings.position_embedding.weight", 2);
        var fc1 = Require(catalog, Prefix + "encoder.layers.0.mlp.fc1.weight", 2);
        int d = (int)patch.Shape[0], p = (int)patch.Shape[2];
        int side = (int)Math.Round(Math.Sqrt(positions.Shape[0] - 1));
        if (side * side != positions.Shape[0] - 1)
            throw new CheckpointFormatException($"tensor '{positions.Name}' has {positions.Shape[0]} positions, which is not a square grid plus the class token");
        var projection = catalog.Find(Projection);
        return new ClipVisionConfig(
            HiddenSize: d,
            IntermediateSize: (int)fc1.Shape[0],
            NumHiddenLayers: LayerCount(catalog),
            NumAttentionHeads: Math.Max(1, d / 64),
            ImageSize: side * p,
            PatchSize: p,
            NumChannels: (int)patch.Shape[1],
            ProjectionDim: projection is null ? d : (int)projection.Shape[0]);
    }

    /// <summary>Every tensor that is missing, extra (in the vision tower) or of another shape than the config says.</summary>
    public static IReadOnlyList<string> Mismatches(ClipVisionConfig config, ITensorCatalog catalog, int limit = 10)
    {
        var withProjection = catalog.Find(Projection) is not null;
        var expected = ExpectedShapes(config, withProjection).ToDictionary(e => e.Name, e => e.Shape, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, shape) in expected)
        {
            var t = catalog.Find(name);
            if (t is null) problems.Add($"tensor '{name}' is missing");
            else if (!t.Shape.SequenceEqual(shape))
                problems.Add($"tensor '{name}' has shape {t.ShapeText} where config.json implies [{string.Join(", ", shape)}]");
        }
        foreach (var t in catalog.Tensors)
            if (t.Name.StartsWith(Prefix, StringComparison.Ordinal) && t.DType.IsFloatingPoint && !expected.ContainsKey(t.Name))
                problems.Add($"tensor '{t.Name}' is not part of a CLIP vision encoder with this config");
        return problems.Take(limit).ToList();
    }

    private static int LayerCount(ITensorCatalog catalog) =>
        catalog.Tensors.Select(t => LayerIndex().Match(t.Name)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).DefaultIfEmpty(0).Max();

    private static TensorInfo Require(ITensorCatalog catalog, string name, int rank)
    {
        var t = catalog.Find(name) ?? throw new CheckpointFormatException($"tensor '{name}' is missing");
        return t.Shape.Count == rank ? t : throw new CheckpointFormatException($"tensor '{name}' has shape {t.ShapeText}, not {rank} dimensions");
    }

    [GeneratedRegex(@"^vision_model\.encoder\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
