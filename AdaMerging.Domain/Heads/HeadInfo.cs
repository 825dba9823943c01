using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Heads;

/// <summary>
/// A task's frozen classifier: safetensors with `weight` [C, D], optional `bias` [C], metadata `normalize`
/// ("true" when features are L2-normalised first, as CLIP's zero-shot heads do; default "false") and optional
/// `classes` (a JSON array of C names).
/// </summary>
public sealed record HeadInfo(int Classes, int FeatureSize, bool HasBias, bool NormalizeFeatures, IReadOnlyList<string>? ClassNames)
{
    public static HeadInfo Inspect(string path, UploadLimits limits)
    {
        var header = SafetensorsHeader.Read(path, limits.MaxHeaderBytes);
        var weight = header.Find("weight") ?? throw new CheckpointFormatException("a head needs a tensor named 'weight' [classes, features]");
        var extra = header.Tensors.Where(t => t.Name is not ("weight" or "bias")).Select(t => t.Name).ToList();
        if (extra.Count > 0) throw new CheckpointFormatException($"a head holds only 'weight' and 'bias', not {string.Join(", ", extra.Select(n => $"'{n}'"))}");
        if (weight.Shape.Count != 2 || weight.Shape[0] < 1 || weight.Shape[1] < 1 || !weight.DType.IsFloatingPoint || weight.DType.TorchType is null)
            throw new CheckpointFormatException($"head 'weight' must be a floating [classes, features] matrix, not {weight.DType} {weight.ShapeText}");
        if (weight.Shape[0] > limits.MaxClasses) throw new CheckpointFormatException($"head has {weight.Shape[0]} classes, over the limit of {limits.MaxClasses}");
        int classes = (int)weight.Shape[0], features = (int)weight.Shape[1];
        var bias = header.Find("bias");
        if (bias is not null && (!bias.Shape.SequenceEqual([(long)classes]) || !bias.DType.IsFloatingPoint || bias.DType.TorchType is null))
            throw new CheckpointFormatException($"head 'bias' must be a floating [{classes}] vector, not {bias.DType} {bias.ShapeText}");
        var info = new HeadInfo(classes, features, bias is not null, Normalize(header), ReadClassNames(header, classes));
        EnsureFinite(path);
        return info;
    }

    private static bool Normalize(SafetensorsHeader header) =>
        header.Metadata.GetValueOrDefault("normalize", "false") switch
        {
            "true" => true,
            "false" => false,
            var other => throw new CheckpointFormatException($"head metadata 'normalize' must be \"true\" or \"false\", not \"{other}\""),
        };

    private static List<string>? ReadClassNames(SafetensorsHeader header, int classes)
    {
        if (!header.Metadata.TryGetValue("classes", out var json)) return null;
        List<string>? names;
        try
        {
            names = JsonSerializer.Deserialize<List<string>>(json);
        }
        catch (JsonException)
        {
            throw new CheckpointFormatException("head metadata 'classes' must be a JSON array of strings");
        }
        if (names is null || names.Count != classes || names.Any(n => n is null))
            throw new CheckpointFormatException($"head metadata 'classes' must name all {classes} classes");
        return names;
    }

    private static void EnsureFinite(string path)
    {
        using var file = SafetensorsFile.Open(path);
        using var scope = torch.NewDisposeScope();
        foreach (var t in file.Tensors)
            if (!file.Read(t.Name).isfinite().all().item<bool>())
                throw new CheckpointFormatException($"head '{t.Name}' contains NaN or infinite values");
    }
}
