using AdaMerging.Benchmark;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Benchmark;

public sealed class BenchmarkDataTests
{
    [Fact]
    public void Idx_files_read_back_as_written_plain_and_gzipped()
    {
        using var dir = new TempDirectory();
        var pixels = Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)i).ToArray();
        foreach (var suffix in new[] { "", ".gz" })
        {
            SyntheticRawData.WriteIdx(dir.File("images" + suffix), 0x803, [3, 4, 5], pixels);
            SyntheticRawData.WriteIdx(dir.File("labels" + suffix), 0x801, [3], [7, 0, 9]);
            var images = RawData.Idx(dir.File("images" + suffix), dir.File("labels" + suffix));
            Assert.Equal((3, 4, 5), (images.Count, images.Height, images.Width));
            Assert.Equal(pixels, images.Pixels);
            Assert.Equal([7, 0, 9], images.Labels);
            Assert.Equal(pixels[20..40], images.Image(1).ToArray());
        }
    }

    [Fact]
    public void Idx_reader_refuses_a_label_file_given_as_images()
    {
        using var dir = new TempDirectory();
        SyntheticRawData.WriteIdx(dir.File("labels"), 0x801, [3], [1, 2, 3]);
        Assert.Throws<InvalidDataException>(() => RawData.Idx(dir.File("labels"), dir.File("labels")));
    }

    [Fact]
    public void Digits_csv_scales_0_to_16_onto_0_to_255()
    {
        using var dir = new TempDirectory();
        SyntheticRawData.Write(dir.Path, train: 10, test: 10, digits: 3);
        var digits = RawData.Digits(Path.Combine(dir.Path, "digits", "digits.csv.gz"));
        Assert.Equal((3, 8, 8), (digits.Count, digits.Height, digits.Width));
        Assert.Contains((byte)255, digits.Pixels);
        Assert.All(digits.Labels, l => Assert.InRange(l, 0, 9));
    }

    [Fact]
    public void Derived_transforms_move_pixels_where_they_say()
    {
        // a 3×3 image 0..8, row by row
        var source = Enumerable.Range(0, 9).Select(i => (byte)i).ToArray();
        var target = new byte[9];
        BenchmarkTasks.Rotate90(source, target, 3);
        Assert.Equal(new byte[] { 6, 3, 0, 7, 4, 1, 8, 5, 2 }, target);    // clockwise: the left column becomes the top row
        BenchmarkTasks.FlipVertical(source, target, 3);
        Assert.Equal(new byte[] { 6, 7, 8, 3, 4, 5, 0, 1, 2 }, target);
        BenchmarkTasks.Invert(source, target, 3);
        Assert.Equal(source.Select(b => (byte)(255 - b)), target);
    }

    [Fact]
    public void Coarse_fashion_labels_group_tops_lower_body_footwear_and_bags()
    {
        Assert.Equal([0, 1, 0, 1, 0, 2, 0, 2, 3, 2], BenchmarkTasks.FashionCoarseOf);
    }

    [Fact]
    public void Eight_tasks_load_with_their_splits_and_28_pixel_images()
    {
        using var dir = new TempDirectory();
        SyntheticRawData.Write(dir.Path);
        var tasks = BenchmarkTasks.Load(dir.Path, seed: 1);
        Assert.Equal(["mnist", "fashion", "digits", "mnist_rot90", "fashion_flip", "mnist_inverted", "fashion_coarse", "digits_inverted"],
            tasks.Select(t => t.Name));
        Assert.All(tasks, t => Assert.Equal((28, 28), (t.Train.Height, t.Test.Width)));
        var digits = tasks.Single(t => t.Name == "digits");
        Assert.Equal((120, 500), (digits.Train.Count, digits.Test.Count));
        Assert.All(tasks.Where(t => t.Origin.StartsWith("derived", StringComparison.Ordinal)), t => Assert.Contains(':', t.Origin));
        Assert.Equal(4, tasks.Single(t => t.Name == "fashion_coarse").Classes.Count);
        Assert.All(tasks.Single(t => t.Name == "fashion_coarse").Test.Labels, l => Assert.InRange(l, 0, 3));
    }

    [Fact]
    public void Glyphs_are_letters_only_deterministic_per_seed_and_visible()
    {
        var a = Glyphs.Render(64, 28, seed: 3);
        var b = Glyphs.Render(64, 28, seed: 3);
        var c = Glyphs.Render(64, 28, seed: 4);
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
        Assert.DoesNotContain(Glyphs.Letters, char.IsDigit);
        Assert.All(a.Labels, l => Assert.InRange(l, 0, Glyphs.Letters.Length - 1));
        for (int i = 0; i < a.Count; i++)
        {
            int lit = a.Image(i).ToArray().Count(p => p > 128);
            Assert.InRange(lit, 10, 28 * 28 / 2);    // a glyph is drawn, and it fits in the image
        }
    }
}
