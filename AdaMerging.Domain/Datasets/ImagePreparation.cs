using AdaMerging.Domain.Checkpoints;
using SkiaSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Datasets;

/// <summary>How an image model wants its images (its architecture says): decoded images resized and cropped to its size, uint8 pixels normalised.</summary>
public interface IImagePreparation
{
    int ImageSize { get; }

    /// <summary>One decoded image as uint8 [3, size, size].</summary>
    Tensor ResizeAndCrop(SKBitmap image);

    /// <summary>uint8 [N, C, H, W] → the model's float32 input.</summary>
    Tensor Normalize(Tensor pixels);
}

/// <summary>Image datasets opened for an image model: tensor datasets read from their file, archives decoded once into a scratch file.</summary>
public static class ImageDatasets
{
    public static (IExampleRows Rows, Tensor? Labels) Open(string path, DatasetInfo info, IImagePreparation preparation, string scratchPath)
    {
        if (info.Modality != DatasetModality.Images) throw new CheckpointFormatException($"the dataset holds {Methods.Options.WireName.Of(info.Modality)}, not images");
        if (info.Format == DatasetFormat.Tensors)
        {
            using var file = Tensors.SafetensorsFile.Open(path);
            return (new SafetensorsImageRows(path, preparation.Normalize), file.Find(TensorDataset.Labels) is null ? null : file.Read(TensorDataset.Labels));
        }
        var (scratch, labels) = ImageArchive.Spill(path, preparation, new UploadLimits(), scratchPath);
        return (new SafetensorsImageRows(scratch, preparation.Normalize, deleteOnDispose: true), labels);
    }
}
