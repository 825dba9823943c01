using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using SkiaSharp;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Datasets;

/// <summary>Images read a batch of rows at a time give exactly the pixels of loading the whole dataset.</summary>
public sealed class ImageRowsTests : TempDirectoryTests
{
    private static readonly long[] Rows = [4, 0, 4, 2];

    private static bool Same(torch.Tensor a, torch.Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Theory]
    [InlineData(torch.ScalarType.Byte)]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.Float16)]
    public void Rows_read_from_a_tensor_dataset_equal_those_rows_of_the_whole_dataset_loaded(torch.ScalarType dtype)
    {
        var path = Dir.File("data.safetensors");
        var stored = dtype == torch.ScalarType.Byte ? torch.randint(0, 255, [5, 3, 6, 6]).to_type(dtype) : torch.randn(5, 3, 6, 6).to_type(dtype);
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["pixel_values"] = stored });
        var (whole, _) = TensorDataset.Load(path, new ClipImages(6));

        using var rows = new SafetensorsImageRows(path, ClipPreprocessing.Normalize);
        using var batch = rows.Read(Rows, torch.CPU);

        Assert.Equal(5, rows.Count);
        Assert.Equal(torch.ScalarType.Float32, batch.dtype);
        Assert.True(Same(batch, whole.index_select(0, torch.tensor(Rows))));
        Assert.True(Same(rows.ReadRange(1, 3, torch.CPU), whole.narrow(0, 1, 3)));
    }

    [Fact]
    public void A_row_past_the_end_is_refused_naming_the_count()
    {
        var path = Dir.File("data.safetensors");
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["pixel_values"] = torch.zeros(3, 3, 2, 2) });
        using var rows = new SafetensorsImageRows(path, ClipPreprocessing.Normalize);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => rows.Read([1, 3], torch.CPU));
        Assert.Contains("has 3 rows", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_archive_spilled_to_scratch_reads_back_the_pixels_and_labels_of_decoding_it_whole_and_is_deleted_after()
    {
        var path = Dir.File("folders.zip");
        File.WriteAllBytes(path, Images.Zip(
            ("cat/a.png", Images.Png(20, 10, new SKColor(255, 0, 0))),
            ("dog/b.png", Images.Png(10, 30, new SKColor(0, 128, 255))),
            ("cat/c.png", Images.Png(9, 11, new SKColor(30, 60, 90)))));
        var (whole, labels) = ImageArchive.Load(path, new ClipImages(8), new UploadLimits());

        var (scratch, spilledLabels) = ImageArchive.Spill(path, new ClipImages(8), new UploadLimits(), Dir.File("scratch.safetensors"));
        Assert.Equal(SafetensorsDType.U8, SafetensorsHeader.Read(scratch).Find("pixel_values")!.DType);   // a quarter of float32's bytes
        using (var rows = new SafetensorsImageRows(scratch, ClipPreprocessing.Normalize, deleteOnDispose: true))
            Assert.True(Same(rows.ReadRange(0, 3, torch.CPU), whole));
        Assert.Equal(labels!.data<long>().ToArray(), spilledLabels!.data<long>().ToArray());
        Assert.False(File.Exists(scratch));
    }
}
