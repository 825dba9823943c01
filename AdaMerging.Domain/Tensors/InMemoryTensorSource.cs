using static TorchSharp.torch;

namespace AdaMerging.Domain.Tensors;

/// <summary>A state dict already in memory, read as any other source (reads are views, converted when asked).</summary>
public sealed class InMemoryTensorSource(IReadOnlyDictionary<string, Tensor> tensors, bool ownsTensors = false) : ITensorSource
{
    private readonly Dictionary<string, TensorInfo> _infos = tensors.ToDictionary(kv => kv.Key,
        kv => new TensorInfo(kv.Key, SafetensorsDType.FromTorch(kv.Value.dtype), kv.Value.shape), StringComparer.Ordinal);

    public IReadOnlyList<TensorInfo> Tensors => [.. _infos.Values];

    public TensorInfo? Find(string name) => _infos.GetValueOrDefault(name);

    public Tensor Read(string name, ScalarType? convertTo = null) =>
        tensors.TryGetValue(name, out var t)
            ? SafetensorsFile.Convert(t.alias(), convertTo)
            : throw new KeyNotFoundException($"tensor '{name}' is not in the state dict");

    public void Dispose()
    {
        if (ownsTensors) foreach (var t in tensors.Values) t.Dispose();
    }
}
