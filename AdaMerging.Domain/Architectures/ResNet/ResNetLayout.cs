using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>The tensors a ResNet of a config has in a layout, and its config read off the shapes when no config.json came.</summary>
public static class ResNetLayout
{
    /// <summary>The statistics and affine parameters of a batch norm (module name + suffix), in state-dict order.</summary>
    public static readonly string[] NormTensors = [".weight", ".bias", ".running_mean", ".running_var"];

    /// <summary>Every convolution in forward order with its batch norm, weight shape and stride (the stem's padding is 3, a 3×3's 1).</summary>
    public static IEnumerable<(string Conv, string Norm, long[] Shape)> Convolutions(ResNetConfig c, ResNetNames names)
    {
        var (stemConv, stemNorm) = names.Stem;
        yield return (stemConv, stemNorm, [c.EmbeddingSize, c.NumChannels, 7, 7]);
        for (int s = 0; s < c.Depths.Count; s++)
            for (int b = 0; b < c.Depths[s]; b++)
            {
                int cin = c.InputWidth(s, b), cout = c.HiddenSizes[s], w = cout / ResNetConfig.Expansion;
                long[][] shapes = c.IsBottleneck
                    ? [[w, cin, 1, 1], [w, w, 3, 3], [cout, w, 1, 1]]
                    : [[cout, cin, 3, 3], [cout, cout, 3, 3]];
                for (int i = 0; i < shapes.Length; i++)
                {
                    var (conv, norm) = names.Layer(s, b, i);
                    yield return (conv, norm, shapes[i]);
                }
                if (c.HasShortcut(s, b))
                {
                    var (conv, norm) = names.Shortcut(s, b);
                    yield return (conv, norm, [cout, cin, 1, 1]);
                }
            }
    }

    /// <summary>Every floating tensor the model reads, with its shape (batch norms' num_batches_tracked are int64 and only carried).</summary>
    public static IEnumerable<(string Name, long[] Shape)> ExpectedShapes(ResNetConfig c, ResNetNames names)
    {
        foreach (var (conv, norm, shape) in Convolutions(c, names))
        {
            yield return (conv + ".weight", shape);
            foreach (var suffix in NormTensors) yield return (norm + suffix, [shape[0]]);
        }
    }

    /// <summary>The config the shapes imply (torchvision's stride placement: on a bottleneck's 3×3 convolution, never in the first stage).</summary>
    public static ResNetConfig Infer(ITensorCatalog weights, ResNetNames names)
    {
        long[] Shape(string conv) => weights.Find(conv + ".weight")?.Shape.ToArray() ?? [];
        var stem = Shape(names.Stem.Conv);
        bool bottleneck = weights.Find(names.Layer(0, 0, 2).Conv + ".weight") is not null;
        var depths = new List<int>();
        var widths = new List<int>();
        for (int s = 0; weights.Find(names.Layer(s, 0, 0).Conv + ".weight") is not null; s++)
        {
            int blocks = 0;
            while (weights.Find(names.Layer(s, blocks, 0).Conv + ".weight") is not null) blocks++;
            depths.Add(blocks);
            var last = Shape(names.Layer(s, 0, bottleneck ? 2 : 1).Conv);
            widths.Add(last.Length > 0 ? (int)last[0] : 0);
        }
        return new ResNetConfig(bottleneck ? ResNetConfig.Bottleneck : ResNetConfig.Basic, depths, widths,
            stem.Length == 4 ? (int)stem[0] : 0, stem.Length == 4 ? (int)stem[1] : 0);
    }

    /// <summary>Every tensor the config implies that the weights lack or hold in another shape, at most <paramref name="limit"/>.</summary>
    public static IReadOnlyList<string> Mismatches(ResNetConfig c, ITensorCatalog weights, ResNetNames names, int limit = 5)
    {
        var found = new List<string>();
        if (c.Problems() is { Count: > 0 } problems) return problems;
        foreach (var (name, shape) in ExpectedShapes(c, names))
        {
            if (found.Count >= limit) break;
            var t = weights.Find(name);
            if (t is null) found.Add($"'{name}' {Shown(shape)} is missing");
            else if (!t.DType.IsFloatingPoint) found.Add($"'{name}' is {t.DType}, not floating");
            else if (!t.Shape.SequenceEqual(shape)) found.Add($"'{name}' has shape {t.ShapeText} where {Shown(shape)} is expected");
        }
        if (found.Count < limit && names.Classifier is var (weight, bias) && weights.Find(weight) is { } head
            && (head.Shape.Count != 2 || head.Shape[1] != c.FeatureSize || weights.Find(bias) is { } b && !b.Shape.SequenceEqual([head.Shape[0]])))
            found.Add($"the classifier '{weight}' {head.ShapeText} does not take the {c.FeatureSize} pooled features");
        return found;
    }

    private static string Shown(long[] shape) => $"[{string.Join(", ", shape)}]";
}
