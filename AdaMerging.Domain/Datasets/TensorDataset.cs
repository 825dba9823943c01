using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Datasets;

/// <summary>A dataset stored as tensors: `pixel_values` [N, C, H, W] and optional int64 `labels` [N].</summary>
public static class TensorDataset
{
    public const string Pixels = "pixel_values";
    public const string Labels = "labels";

    public static DatasetInfo Inspect(string path, UploadLimits limits)
    {
        var header = SafetensorsHeader.Read(path, limits.MaxHeaderBytes);
        var pixels = header.Find(Pixels) ?? throw new CheckpointFormatException($"a tensor dataset needs '{Pixels}' [N, C, H, W]");
        var extra = header.Tensors.Where(t => t.Name is not (Pixels or Labels)).Select(t => $"'{t.Name}'").ToList();
        if (extra.Count > 0) throw new CheckpointFormatException($"a tensor dataset holds only '{Pixels}' and '{Labels}', not {string.Join(", ", extra)}");
        if (pixels.Shape.Count != 4 || pixels.Shape[0] < 1 || pixels.Shape[1] is not (1 or 3 or 4) || pixels.Shape[2] < 1 || pixels.Shape[3] < 1)
            throw new CheckpointFormatException($"'{Pixels}' must be [N ≥ 1, C ∈ {{1, 3, 4}}, H, W], not {pixels.ShapeText}");
        if (pixels.DType != SafetensorsDType.U8 && !(pixels.DType.IsFloatingPoint && pixels.DType.TorchType is not null))
            throw new CheckpointFormatException($"'{Pixels}' must be U8 or floating, not {pixels.DType}");
        int n = checked((int)pixels.Shape[0]);
        int? maxLabel = null;
        using var file = SafetensorsFile.Open(path);
        using var scope = torch.NewDisposeScope();
        if (header.Find(Labels) is { } labels)
        {
            if (labels.DType != SafetensorsDType.I64 || !labels.Shape.SequenceEqual([(long)n]))
                throw new CheckpointFormatException($"'{Labels}' must be I64 [{n}], not {labels.DType} {labels.ShapeText}");
            var values = file.Read(Labels);
            if (values.min().item<long>() < 0) throw new CheckpointFormatException($"'{Labels}' has negative labels");
            var max = values.max().item<long>();
            if (max >= limits.MaxClasses) throw new CheckpointFormatException($"'{Labels}' has label {max}, over the limit of {limits.MaxClasses} classes");
            maxLabel = (int)max;
        }
        if (pixels.DType.IsFloatingPoint && !file.Read(Pixels).isfinite().all().item<bool>())
            throw new CheckpointFormatException($"'{Pixels}' contains NaN or infinite values");
        return new DatasetInfo(DatasetFormat.Tensors, n, (int)pixels.Shape[1], (int)pixels.Shape[2], (int)pixels.Shape[3],
            maxLabel is not null, maxLabel, null);
    }

    /// <summary>
    /// Pixels ready for the encoder: uint8 images are scaled to [0, 1] and normalised with CLIP's mean and std; float
    /// pixels are taken as already preprocessed.
    /// </summary>
    public static (torch.Tensor Pixels, torch.Tensor? Labels) Load(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var raw = file.Read(Pixels);
        var pixels = raw.dtype == torch.ScalarType.Byte ? ClipPreprocessing.Normalize(raw) : raw.to_type(torch.ScalarType.Float32);
        if (!ReferenceEquals(pixels, raw)) raw.Dispose();
        return (pixels, file.Find(Labels) is null ? null : file.Read(Labels));
    }
}
