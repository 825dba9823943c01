using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>Small checkpoints written with the product's own writer, for tests that need files.</summary>
public static class TestCheckpoints
{
    public static void Save(string path, IReadOnlyDictionary<string, torch.Tensor> tensors) => SafetensorsWriter.Save(path, tensors);

    /// <summary>A base with two float tensors and an int64 buffer, and <paramref name="k"/> seeded variations of it.</summary>
    public static (Dictionary<string, torch.Tensor> Base, List<Dictionary<string, torch.Tensor>> Tasks) Family(int k, int seed = 7,
        long rows = 6, long cols = 5)
    {
        var g = new torch.Generator((ulong)seed);
        var theta0 = new Dictionary<string, torch.Tensor>
        {
            ["encoder.weight"] = torch.randn([rows, cols], generator: g),
            ["encoder.bias"] = torch.randn([rows], generator: g),
            ["encoder.position_ids"] = torch.arange(RootedScalars.Of(rows), torch.ScalarType.Int64),
        };
        var tasks = Enumerable.Range(0, k).Select(_ => theta0.ToDictionary(kv => kv.Key,
            kv => kv.Value.is_floating_point() ? kv.Value.Plus(torch.randn(kv.Value.shape, generator: g)) : kv.Value.Plus(100))).ToList();
        return (theta0, tasks);
    }

    public static torch.Tensor Load(string path, string name)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Read(name);
    }
}
