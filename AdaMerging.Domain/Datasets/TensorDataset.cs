using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Datasets;

/// <summary>A dataset stored as tensors: `pixel_values` [N, C, H, W] or `features` [N, D], and optional int64 `labels` [N].</summary>
public static class TensorDataset
{
    public const string Pixels = "pixel_values";
    public const string Features = "features";
    public const string Labels = "labels";

    public static DatasetInfo Inspect(string path, UploadLimits limits)
    {
        var header = SafetensorsHeader.Read(path, limits.MaxHeaderBytes);
        var (input, modality) = header.Find(Pixels) is { } p ? (p, DatasetModality.Images)
            : header.Find(Features) is { } f ? (f, DatasetModality.Features)
            : throw new CheckpointFormatException($"a tensor dataset needs '{Pixels}' [N, C, H, W] (images) or '{Features}' [N, D] (feature vectors)");
        var extra = header.Tensors.Where(t => t.Name != input.Name && t.Name != Labels).Select(t => $"'{t.Name}'").ToList();
        if (extra.Count > 0) throw new CheckpointFormatException($"a tensor dataset holds only '{input.Name}' and '{Labels}', not {string.Join(", ", extra)}");
        if (modality == DatasetModality.Images
            && (input.Shape.Count != 4 || input.Shape[0] < 1 || input.Shape[1] is not (1 or 3 or 4) || input.Shape[2] < 1 || input.Shape[3] < 1))
            throw new CheckpointFormatException($"'{Pixels}' must be [N ≥ 1, C ∈ {{1, 3, 4}}, H, W], not {input.ShapeText}");
        if (modality == DatasetModality.Features && (input.Shape.Count != 2 || input.Shape[0] < 1 || input.Shape[1] is < 1 or > 1 << 20))
            throw new CheckpointFormatException($"'{Features}' must be [N ≥ 1, D in 1-1048576], not {input.ShapeText}");
        if (!(modality == DatasetModality.Images && input.DType == SafetensorsDType.U8) && !(input.DType.IsFloatingPoint && input.DType.TorchType is not null))
            throw new CheckpointFormatException($"'{input.Name}' must be {(modality == DatasetModality.Images ? "U8 or " : "")}floating, not {input.DType}");
        int n = checked((int)input.Shape[0]);
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
        if (input.DType.IsFloatingPoint && !file.Read(input.Name).isfinite().all().item<bool>())
            throw new CheckpointFormatException($"'{input.Name}' contains NaN or infinite values");
        return modality == DatasetModality.Images
            ? new DatasetInfo(DatasetFormat.Tensors, n, (int)input.Shape[1], (int)input.Shape[2], (int)input.Shape[3], maxLabel is not null, maxLabel, null)
            : new DatasetInfo(DatasetFormat.Tensors, n, 0, null, null, maxLabel is not null, maxLabel, null, DatasetModality.Features, (int)input.Shape[1]);
    }

    /// <summary>
    /// Pixels ready for the encoder: uint8 images are normalised by the model's preprocessing; float pixels are taken
    /// as already preprocessed.
    /// </summary>
    public static (torch.Tensor Pixels, torch.Tensor? Labels) Load(string path, IImagePreparation preparation)
    {
        using var file = SafetensorsFile.Open(path);
        var raw = file.Read(Pixels);
        var pixels = raw.dtype == torch.ScalarType.Byte ? preparation.Normalize(raw) : raw.to_type(torch.ScalarType.Float32);
        if (!ReferenceEquals(pixels, raw)) raw.Dispose();
        return (pixels, file.Find(Labels) is null ? null : file.Read(Labels));
    }
}
