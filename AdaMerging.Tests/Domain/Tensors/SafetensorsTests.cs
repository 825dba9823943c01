using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Tensors;

public sealed class SafetensorsTests : TempDirectoryTests
{
    [Fact]
    public void A_file_written_past_the_write_behind_windows_reads_back_bit_for_bit()
    {
        // 72 MB in tensors of 9 MB and rows of 1 MB: the writer starts the kernel's writeback twice before its commit (WriteBehind).
        var path = Dir.File("large.safetensors");
        var g = new torch.Generator(3);
        var tensors = Enumerable.Range(0, 8).ToDictionary(i => $"t{i}", _ => torch.randn([9, 1 << 18], generator: g));
        var layout = SafetensorsWriter.LayoutOf(tensors);
        Assert.True(layout.Sum(t => t.Shape.Aggregate(4L, (a, b) => a * b)) > 2 * AdaMerging.Domain.Diagnostics.WriteBehind.WindowBytes);
        using (var writer = new SafetensorsWriter(path, layout))
        {
            foreach (var (name, tensor) in tensors)
                if (name == "t3") writer.WriteRows(name, tensor.dtype, Enumerable.Range(0, 9).Select(r => tensor.narrow(0, r, 1).clone()));
                else writer.Write(name, tensor);
            writer.Commit();
        }
        using var file = SafetensorsFile.Open(path);
        foreach (var (name, expected) in tensors)
            using (var actual = file.Read(name))
                Assert.True(expected.equal(actual).all().item<bool>(), $"{name} differs after the round trip");
    }

    [Fact]
    public void Written_tensors_read_back_bit_for_bit_in_every_loadable_dtype()
    {
        var path = Dir.File("all.safetensors");
        var tensors = new Dictionary<string, torch.Tensor>
        {
            ["f32"] = torch.randn([3, 4]),
            ["f64"] = torch.randn([2], torch.ScalarType.Float64),
            ["f16"] = torch.randn([5]).to_type(torch.ScalarType.Float16),
            ["bf16"] = torch.randn([2, 2]).to_type(torch.ScalarType.BFloat16),
            ["i64"] = torch.arange(RootedScalars.Of(7), torch.ScalarType.Int64),
            ["i32"] = torch.arange(RootedScalars.Of(3), torch.ScalarType.Int32),
            ["u8"] = torch.arange(RootedScalars.Of(9), torch.ScalarType.Byte),
            ["bool"] = torch.tensor(new[] { true, false, true }),
            ["scalar"] = torch.tensor(3.5f),
            ["empty"] = torch.zeros([0, 4]),
        };
        TestCheckpoints.Save(path, tensors);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(tensors.Keys, file.Header.Tensors.Select(t => t.Name));
        foreach (var (name, expected) in tensors)
        {
            using var actual = file.Read(name);
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.equal(actual).all().item<bool>(), $"{name} differs after the round trip");
        }
    }

    [Fact]
    public void Reading_converts_floating_tensors_to_the_compute_dtype()
    {
        var path = Dir.File("half.safetensors");
        var half = torch.tensor(new float[] { 1.5f, -2.25f }).to_type(torch.ScalarType.BFloat16);
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["w"] = half });
        using var file = SafetensorsFile.Open(path);
        using var w = file.Read("w", torch.ScalarType.Float32);
        Assert.Equal(torch.ScalarType.Float32, w.dtype);
        Assert.Equal(new[] { 1.5f, -2.25f }, w.data<float>().ToArray());
    }

    [Fact]
    public void The_writer_pads_the_header_to_8_bytes_and_marks_the_format_pt()
    {
        var path = Dir.File("pad.safetensors");
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["a"] = torch.ones(3) });
        var bytes = File.ReadAllBytes(path);
        var n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n).TrimEnd(' '));
        Assert.Equal("pt", json.RootElement.GetProperty("__metadata__").GetProperty("format").GetString());
        Assert.Equal(8 + n + 12, bytes.Length);
    }

    [Fact]
    public void A_writer_disposed_before_commit_leaves_no_file_behind()
    {
        var path = Dir.File("never.safetensors");
        using (var writer = new SafetensorsWriter(path, [("a", SafetensorsDType.F32, [2L]), ("b", SafetensorsDType.F32, [2L])]))
            writer.Write("a", torch.ones(2));
        Assert.Empty(Directory.GetFileSystemEntries(Dir.Path));
    }

    [Fact]
    public void The_writer_writes_non_contiguous_tensors_as_their_values()
    {
        var path = Dir.File("t.safetensors");
        var transposed = torch.arange(RootedScalars.Of(6), torch.ScalarType.Float32).reshape(2, 3).t();
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["t"] = transposed });
        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, TestCheckpoints.Load(path, "t").data<float>().ToArray());
    }

    [Theory]
    [InlineData(torch.ScalarType.Float32)]
    [InlineData(torch.ScalarType.Float64)]
    [InlineData(torch.ScalarType.Float16)]
    [InlineData(torch.ScalarType.BFloat16)]
    public void The_non_finite_scan_counts_NaN_and_infinities_in_every_float_dtype(torch.ScalarType dtype)
    {
        var path = Dir.File("nan.safetensors");
        var values = torch.randn(1000);
        values[3] = float.NaN;
        values[500] = float.PositiveInfinity;
        values[999] = float.NegativeInfinity;
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor> { ["clean"] = torch.ones(10).to_type(dtype), ["dirty"] = values.to_type(dtype) });
        Assert.Equal(["dirty: 3 non-finite value(s)"], AdaMerging.Domain.Checkpoints.NonFiniteScan.Find(path));
    }

    public static TheoryData<string, string, string> MalformedHeaders => new()
    {
        { "not json", "{not json", "not valid JSON" },
        { "array root", "[1,2]", "not an object" },
        { "duplicate", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "appears twice" },
        { "unknown dtype", """{"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype 'F33'" },
        { "size mismatch", """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "needs 12" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "overlap" },
        { "hole", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "hole" },
        { "outside", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "outside" },
        { "trailing data", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "does not end at the file's end" },
        { "negative shape", """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", "non-negative integers" },
        { "metadata not strings", """{"__metadata__":{"format":3}}""", "must be a string" },
        { "reversed offsets", """{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", "end before they begin" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void Malformed_headers_are_refused_naming_the_rule(string _, string header, string expected)
    {
        var path = Dir.File("bad.safetensors");
        WriteRaw(path, Encoding.UTF8.GetBytes(header), new byte[8]);
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Read(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_over_the_limit_is_refused_without_reading_it()
    {
        var path = Dir.File("huge.safetensors");
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, 100_000_001);
        File.WriteAllBytes(path, prefix);
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Read(path));
        Assert.Contains("exceeds the limit", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_length_past_the_end_of_the_file_is_refused()
    {
        var path = Dir.File("short.safetensors");
        var bytes = new byte[20];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 500);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Read(path));
        Assert.Contains("runs past the end", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_shorter_than_the_length_prefix_is_refused()
    {
        var path = Dir.File("tiny.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.Throws<SafetensorsFormatException>(() => SafetensorsHeader.Read(path));
    }

    private static void WriteRaw(string path, byte[] header, byte[] data)
    {
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        File.WriteAllBytes(path, [.. prefix, .. header, .. data]);
    }
}
