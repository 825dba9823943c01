using AdaMerging.Domain.Merging.Streaming;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Merging.Streaming;

/// <summary>How a streamed merge cuts the model into stretches (docs/algorithm.md, "Streamed merges").</summary>
public sealed class StretchesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Stretches_cut_a_tensor_into_row_ranges_only_where_the_method_merges_entry_by_entry()
    {
        var path = _dir.File("base.safetensors");
        TestCheckpoints.Save(path, new Dictionary<string, Tensor>
        {
            ["embed"] = zeros(120, 16), ["layer.weight"] = zeros(12, 8), ["layer.bias"] = zeros(12), ["scale"] = zeros(Array.Empty<long>()),
        });
        using var theta0 = SafetensorsFile.Open(path);
        string[] merged = ["embed", "layer.weight", "layer.bias", "scale"];
        var cut = Stretches.Plan(theta0, merged, 100, cutTensors: true);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => $"embed[{6 * i}:{6 * i + 6}]"), cut.SelectMany(s => s).Where(p => p.Tensor == "embed").Select(p => p.Key));
        Assert.All(cut, s => Assert.True(s.Sum(p => p.Elements) <= 100, string.Join(", ", s.Select(p => p.Key))));
        var whole = Stretches.Plan(theta0, merged, 100, cutTensors: false);
        Assert.Equal(merged, whole.SelectMany(s => s).Select(p => p.Key));
        Assert.Equal([1920L, 96, 13], whole.Select(s => s.Sum(p => p.Elements)));
    }
}
