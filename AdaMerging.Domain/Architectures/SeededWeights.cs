using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// Random weights drawn a tensor at a time, so that no model is held: θ0 = 0.02 · N(0, 1) per tensor from a generator
/// seeded by the tensor's position, and with a perturbation seed a fine-tuned model θ0 + 0.001 · N(0, 1) (that
/// generator drawn in the order tensors are read). <paramref name="adjust"/> shifts a tensor's base values where an
/// architecture needs them in a range (a batch norm's variance positive, its scale near 1). What random problems are made of.
/// </summary>
public sealed class SeededWeights(IReadOnlyList<TensorInfo> shapes, ulong seed, ulong? perturbation, Func<string, Tensor, Tensor>? adjust = null) : ITensorSource
{
    private readonly Generator? _perturbation = perturbation is { } p ? new Generator(p) : null;
    private readonly Dictionary<string, int> _index = shapes.Select((s, i) => (s.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);

    public IReadOnlyList<TensorInfo> Tensors => shapes;

    public TensorInfo? Find(string name) => _index.TryGetValue(name, out var i) ? shapes[i] : null;

    public Tensor Read(string name, ScalarType? convertTo = null)
    {
        using var scope = NewDisposeScope();
        var index = _index[name];
        using var g = new Generator(seed * 7919UL + (ulong)index);
        var shape = shapes[index].Shape.ToArray();
        var t = randn(shape, generator: g).Times(0.02);
        if (adjust is not null) t = adjust(name, t);
        if (_perturbation is not null) t = t.Plus(randn(shape, generator: _perturbation).Times(0.001));
        return (convertTo is { } d ? t.to_type(d) : t).MoveToOuterDisposeScope();
    }

    public void Dispose() => _perturbation?.Dispose();
}
