using System.Globalization;
using System.IO.Compression;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using SkiaSharp;
using TorchSharp;

namespace AdaMerging.Domain.Datasets;

/// <summary>
/// A zip of images: one folder per class (labels are the folders in ordinal order), or images at the root with an
/// optional labels.csv (file,label). At upload every entry is checked (safe name, size, compression ratio) and every
/// image decoded once; when a job runs, the images are decoded again and preprocessed for the model.
/// </summary>
public static class ImageArchive
{
    public const string LabelsFile = "labels.csv";

    private static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp"];

    public static DatasetInfo Inspect(string path, UploadLimits limits)
    {
        var plan = Plan(path, limits, decode: true);
        return new DatasetInfo(plan.Format, plan.Images.Count, 3, null, null, plan.Labels is not null,
            plan.Labels?.Max(), plan.ClassNames);
    }

    /// <summary>
    /// Decodes the archive an image at a time into a uint8 `pixel_values` file at <paramref name="scratchPath"/> (resized
    /// and cropped; normalised when read, which gives exactly the pixels <see cref="Load"/> gives), so a run reads it a
    /// batch at a time instead of holding it.
    /// </summary>
    public static (string Path, torch.Tensor? Labels) Spill(string path, IImagePreparation preparation, UploadLimits limits, string scratchPath)
    {
        int imageSize = preparation.ImageSize;
        var plan = Plan(path, limits, decode: false);
        using var archive = ZipFile.OpenRead(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(scratchPath))!);
        var layout = new List<(string, SafetensorsDType, IReadOnlyList<long>)> { (TensorDataset.Pixels, SafetensorsDType.U8, [plan.Images.Count, 3, imageSize, imageSize]) };
        using (var writer = new SafetensorsWriter(scratchPath, layout))
        {
            writer.WriteRows(TensorDataset.Pixels, torch.ScalarType.Byte, plan.Images.Select(name =>
            {
                using var bitmap = Decode(archive.GetEntry(name)!, limits);
                using var image = preparation.ResizeAndCrop(bitmap);
                return image.unsqueeze(0);
            }));
            writer.Commit();
        }
        return (scratchPath, plan.Labels is null ? null : torch.tensor(plan.Labels.Select(l => (long)l).ToArray()));
    }

    /// <summary>All images as the model's float32 [N, 3, size, size] with their labels (null when unlabeled).</summary>
    public static (torch.Tensor Pixels, torch.Tensor? Labels) Load(string path, IImagePreparation preparation, UploadLimits limits)
    {
        var plan = Plan(path, limits, decode: false);
        using var archive = ZipFile.OpenRead(path);
        using var scope = torch.NewDisposeScope();
        var images = plan.Images.Select(name =>
        {
            using var bitmap = Decode(archive.GetEntry(name)!, limits);
            return preparation.ResizeAndCrop(bitmap);
        }).ToList();
        var pixels = preparation.Normalize(torch.stack(images)).MoveToOuterDisposeScope();
        var labels = plan.Labels is null ? null : torch.tensor(plan.Labels.Select(l => (long)l).ToArray()).MoveToOuterDisposeScope();
        return (pixels, labels);
    }

    private sealed record ArchivePlan(DatasetFormat Format, List<string> Images, List<int>? Labels, List<string>? ClassNames);

    private static ArchivePlan Plan(string path, UploadLimits limits, bool decode)
    {
        ZipArchive archive;
        try
        {
            archive = ZipFile.OpenRead(path);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException($"not a readable zip archive: {e.Message}", e);
        }
        using (archive)
        {
            var entries = CheckEntries(archive, limits);
            var images = entries.Where(e => IsImage(e.FullName)).Select(e => e.FullName).Order(StringComparer.Ordinal).ToList();
            if (images.Count == 0) throw new CheckpointFormatException("the archive holds no images (.png, .jpg, .jpeg, .bmp, .gif, .webp)");
            var strays = entries.Where(e => !IsImage(e.FullName) && e.FullName != LabelsFile).Select(e => e.FullName).Take(3).ToList();
            if (strays.Count > 0) throw new CheckpointFormatException($"the archive holds files that are neither images nor {LabelsFile}: {string.Join(", ", strays)}");
            var plan = images.All(i => i.Count(c => c == '/') == 1) ? FolderPlan(images)
                : images.All(i => !i.Contains('/', StringComparison.Ordinal)) ? ListPlan(archive, images, limits)
                : throw new CheckpointFormatException("images must be either all in class folders (class/image.png) or all at the root");
            if (decode)
                foreach (var name in plan.Images)
                    using (Decode(archive.GetEntry(name)!, limits)) { }
            return plan;
        }
    }

    private static List<ZipArchiveEntry> CheckEntries(ZipArchive archive, UploadLimits limits)
    {
        if (archive.Entries.Count > limits.MaxArchiveEntries)
            throw new CheckpointFormatException($"the archive has {archive.Entries.Count} entries, over the limit of {limits.MaxArchiveEntries}");
        long expanded = 0;
        var files = new List<ZipArchiveEntry>();
        foreach (var e in archive.Entries)
        {
            var name = e.FullName;
            if (name.Length == 0 || name.StartsWith('/') || name.Contains('\\', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)
                || name.Split('/').Any(part => part is ".." or "."))
                throw new CheckpointFormatException($"archive entry '{name}' has an unsafe path");
            if (name.EndsWith('/')) continue;
            if (e.Length > 0 && (e.CompressedLength == 0 || (double)e.Length / e.CompressedLength > limits.MaxCompressionRatio))
                throw new CheckpointFormatException($"archive entry '{name}' expands {e.Length} bytes from {e.CompressedLength}: over the ratio limit of {limits.MaxCompressionRatio} (a zip bomb?)");
            expanded += e.Length;
            if (expanded > limits.MaxArchiveExpandedBytes)
                throw new CheckpointFormatException($"the archive expands to over {limits.MaxArchiveExpandedBytes} bytes");
            files.Add(e);
        }
        return files;
    }

    private static ArchivePlan FolderPlan(List<string> images)
    {
        var classes = images.Select(i => i[..i.IndexOf('/', StringComparison.Ordinal)]).Distinct().Order(StringComparer.Ordinal).ToList();
        var index = classes.Select((c, i) => (c, i)).ToDictionary(x => x.c, x => x.i, StringComparer.Ordinal);
        return new ArchivePlan(DatasetFormat.ImageFolders, images,
            images.Select(i => index[i[..i.IndexOf('/', StringComparison.Ordinal)]]).ToList(), classes);
    }

    private static ArchivePlan ListPlan(ZipArchive archive, List<string> images, UploadLimits limits)
    {
        var csv = archive.GetEntry(LabelsFile);
        if (csv is null) return new ArchivePlan(DatasetFormat.ImageList, images, null, null);
        var labels = new Dictionary<string, int>(StringComparer.Ordinal);
        using var reader = new StreamReader(csv.Open());
        int line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            var parts = text.Split(',');
            if (parts.Length != 2) throw new CheckpointFormatException($"{LabelsFile} line {line}: expected 'file,label'");
            var (file, label) = (parts[0].Trim(), parts[1].Trim());
            if (line == 1 && !int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue; // a header row
            if (!int.TryParse(label, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value >= limits.MaxClasses)
                throw new CheckpointFormatException($"{LabelsFile} line {line}: label '{label}' is not an integer in 0-{limits.MaxClasses - 1}");
            if (!labels.TryAdd(file, value)) throw new CheckpointFormatException($"{LabelsFile} line {line}: '{file}' is labelled twice");
        }
        var unlabeled = images.Where(i => !labels.ContainsKey(i)).Take(3).ToList();
        if (unlabeled.Count > 0) throw new CheckpointFormatException($"{LabelsFile} gives no label for {string.Join(", ", unlabeled)}");
        var unknown = labels.Keys.Where(f => !images.Contains(f)).Take(3).ToList();
        if (unknown.Count > 0) throw new CheckpointFormatException($"{LabelsFile} labels files the archive lacks: {string.Join(", ", unknown)}");
        return new ArchivePlan(DatasetFormat.ImageList, images, images.Select(i => labels[i]).ToList(), null);
    }

    private static SKBitmap Decode(ZipArchiveEntry entry, UploadLimits limits)
    {
        var bytes = new byte[entry.Length];
        using (var stream = entry.Open())
        {
            stream.ReadExactly(bytes);
            if (stream.ReadByte() != -1) throw new CheckpointFormatException($"archive entry '{entry.FullName}' is larger than the archive declares");
        }
        using var codec = SKCodec.Create(new SKMemoryStream(bytes))
            ?? throw new CheckpointFormatException($"archive entry '{entry.FullName}' is not a decodable image");
        if ((long)codec.Info.Width * codec.Info.Height > limits.MaxImagePixels)
            throw new CheckpointFormatException($"image '{entry.FullName}' has {codec.Info.Width}×{codec.Info.Height} pixels, over the limit of {limits.MaxImagePixels}");
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            throw new CheckpointFormatException($"image '{entry.FullName}' could not be decoded ({result})");
        }
        return bitmap;
    }

    private static bool IsImage(string name) => ImageExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase));
}
