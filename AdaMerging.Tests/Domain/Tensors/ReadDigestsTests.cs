using System.Security.Cryptography;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Tensors;

/// <summary>
/// A run's inputs' digests taken from its own reads (docs/performance.md, "Streamed merges"): the file's SHA-256 when
/// it was read start to end in data order, and none when it was not, so that the run hashes it itself.
/// </summary>
public sealed class ReadDigestsTests : TempDirectoryTests
{
    private string Model()
    {
        var path = Dir.File("model.safetensors");
        var g = new torch.Generator(5);
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor>
        {
            ["a"] = torch.randn([64, 33], generator: g),
            ["b"] = torch.randn([7], generator: g).to_type(torch.ScalarType.BFloat16),
            ["c"] = torch.randn([40, 3], generator: g),
        });
        return path;
    }

    private static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void A_file_read_in_data_order_has_its_sha256_without_a_second_read()
    {
        var path = Model();
        using var digests = ReadDigests.Watch([path]);
        using (var file = SafetensorsFile.Open(path))
        {
            // Row ranges, a range read twice, then whole tensors: every byte in order, some of them again.
            using (var first = file.ReadRowRange("a", 0, 20)) { }
            using (var again = file.ReadRowRange("a", 10, 20)) { }
            using (var rest = file.ReadRowRange("a", 30, 34)) { }
            foreach (var name in new[] { "b", "c" })
                using (var t = file.Read(name)) { }
        }
        Assert.Equal(Sha256(path), digests.Completed(path));
        Assert.Null(digests.Completed(path));   // given once
    }

    [Theory]
    [InlineData("c,a,b")]   // out of data order
    [InlineData("a,b")]     // not to the end
    [InlineData("")]        // the header alone
    public void A_file_not_read_start_to_end_in_order_has_no_digest(string order)
    {
        var path = Model();
        using var digests = ReadDigests.Watch([path]);
        using (var file = SafetensorsFile.Open(path))
            foreach (var name in order.Split(',', StringSplitOptions.RemoveEmptyEntries))
                using (var t = file.Read(name)) { }
        Assert.Null(digests.Completed(path));
    }

    [Fact]
    public void A_path_another_run_watches_is_left_to_it_and_an_unwatched_file_feeds_no_digest()
    {
        var path = Model();
        using var first = ReadDigests.Watch([path]);
        using var second = ReadDigests.Watch([path]);
        using (var file = SafetensorsFile.Open(path))
            foreach (var name in new[] { "a", "b", "c" })
                using (var t = file.Read(name)) { }
        Assert.Equal(Sha256(path), first.Completed(path));
        Assert.Null(second.Completed(path));
        first.Dispose();
        using var third = ReadDigests.Watch([path, Dir.File("missing.safetensors")]);
        Assert.Null(third.Completed(path));   // watched after the reads: nothing seen
        Assert.Null(third.Completed(Dir.File("missing.safetensors")));   // a missing file is left to the run's own opening to report
    }
}
