using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Checkpoints.Lora;

/// <summary>
/// A LoRA adapter seen as the fine-tuned model it makes of its base, under the base's names (docs/algorithm.md, "LoRA
/// adapters"): an adapted weight is W0 + scaling · B·A, computed when read (a row range from the rows of B, or of A
/// where ΔW is transposed) in float32, or in the dtype asked for (a streamed bfloat16 merge asks for float64); a tensor
/// the adapter carries whole (modules_to_save, a trained bias) is read from it; every other tensor is the base's own,
/// so the task's vector is zero there. A module whose weight the base lacks is listed under its name with its delta's
/// shape, where the compatibility check names it. Neither source is owned.
/// </summary>
public sealed class LoraTaskWeights : ITensorSource
{
    private readonly ITensorSource _base, _adapter;
    private readonly Dictionary<string, LoraModule> _weights = new(StringComparer.Ordinal), _biases = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _full = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _byName = new(StringComparer.Ordinal);

    public LoraTaskWeights(ITensorSource baseWeights, LoraAdapter adapter, ITensorSource adapterWeights)
    {
        (_base, _adapter) = (baseWeights, adapterWeights);
        foreach (var m in adapter.Modules)
        {
            _weights[Resolve(m.Path + ".weight")] = m;
            if (m.BBias is not null) _biases[Resolve(m.Path + ".bias")] = m;
        }
        foreach (var (name, stored) in adapter.FullTensors) _full[Resolve(name)] = stored;
        var tensors = baseWeights.Tensors.Select(t => Shown(t.Name) ?? t).ToList();
        tensors.AddRange(_weights.Keys.Concat(_biases.Keys).Concat(_full.Keys).Where(n => baseWeights.Find(n) is null).Select(n => Shown(n)!));
        foreach (var t in tensors) _byName[t.Name] = t;
        Tensors = tensors;
    }

    public IReadOnlyList<TensorInfo> Tensors { get; }

    public TensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    public Tensor Read(string name, ScalarType? convertTo = null)
    {
        if (_full.TryGetValue(name, out var stored)) return _adapter.Read(stored, convertTo);
        if (!_weights.ContainsKey(name) && !_biases.ContainsKey(name)) return _base.Read(name, convertTo);
        var dtype = convertTo ?? Find(name)!.DType.TorchType!.Value;
        using var w0 = _base.Read(name, dtype);
        return Adapted(name, w0, dtype, null);
    }

    public Tensor ReadRowRange(string name, long firstRow, long rows, ScalarType? convertTo = null)
    {
        if (_full.TryGetValue(name, out var stored)) return _adapter.ReadRowRange(stored, firstRow, rows, convertTo);
        if (!_weights.ContainsKey(name) && !_biases.ContainsKey(name)) return _base.ReadRowRange(name, firstRow, rows, convertTo);
        var dtype = convertTo ?? Find(name)!.DType.TorchType!.Value;
        using var w0 = _base.ReadRowRange(name, firstRow, rows, dtype);
        return Adapted(name, w0, dtype, (firstRow, rows));
    }

    /// <summary>The delta of an adapted weight, scaling · B·A (or its transpose), whole or rows [first, + count), in <paramref name="dtype"/>.</summary>
    public Tensor Delta(LoraModule m, ScalarType dtype, (long First, long Count)? rows = null)
    {
        using var a = _adapter.Read(m.A, dtype);
        using var b = _adapter.Read(m.B, dtype);
        using var a2 = a.reshape(m.Rank, -1);
        using var b2 = b.reshape(b.shape[0], m.Rank);
        Tensor product;
        if (m.Transposed)
        {
            using var columns = rows is var (first, count) ? a2.narrow(1, first, count) : a2.alias();
            using var at = columns.t();
            using var bt = b2.t();
            product = at.matmul(bt);
        }
        else
        {
            using var part = rows is var (first, count) ? b2.narrow(0, first, count) : b2.alias();
            product = part.matmul(a2);
        }
        using (product)
        {
            using var shaped = product.reshape([product.shape[0], .. m.DeltaShape.Skip(1)]);
            return shaped.Times(m.Scaling);
        }
    }

    /// <summary>Whether the task's value of <paramref name="name"/> is the base's own: its task vector is zero there.</summary>
    public bool IsBase(string name) => !_weights.ContainsKey(name) && !_biases.ContainsKey(name) && !_full.ContainsKey(name);

    /// <summary>
    /// The factors of an adapted weight as matrices in <paramref name="dtype"/>, B [m, r] and A [r, n] (ΔW's stored 2-D
    /// form is scaling · B·A, or its transpose when <c>Transposed</c>, reshaped to the weight's shape); null for any other tensor.
    /// </summary>
    public (Tensor B, Tensor A, double Scaling, bool Transposed)? Factors(string name, ScalarType dtype)
    {
        if (!_weights.TryGetValue(name, out var m)) return null;
        using var a = _adapter.Read(m.A, dtype);
        using var b = _adapter.Read(m.B, dtype);
        return (b.reshape(b.shape[0], m.Rank), a.reshape(m.Rank, -1), m.Scaling, m.Transposed);
    }

    /// <summary>The elements this task's vectors of <paramref name="names"/> hold kept factored: r · (m + n) per adapted weight, none where it is the base's, the rest whole.</summary>
    public long FactoredElements(IEnumerable<string> names) => names.Sum(n =>
        IsBase(n) ? 0 : _weights.TryGetValue(n, out var m) ? m.Rank * (m.DeltaShape[0] + m.DeltaShape.Skip(1).Aggregate(1L, (a, b) => a * b)) : Find(n)!.ElementCount);

    /// <summary>The source is its owner's to dispose, and so is the base.</summary>
    public void Dispose() { }

    private Tensor Adapted(string name, Tensor w0, ScalarType dtype, (long First, long Count)? rows)
    {
        if (_weights.TryGetValue(name, out var m))
        {
            using var delta = Delta(m, dtype, rows);
            using var shaped = w0.reshape(delta.shape);
            return shaped.Plus(delta);
        }
        var module = _biases[name];
        using var bias = _adapter.Read(module.BBias!, dtype);
        using var part = rows is var (first, count) ? bias.narrow(0, first, count) : bias.alias();
        return w0.PlusScaled(part, module.Scaling);
    }

    /// <summary>An adapted or carried tensor as listed (float32, or float64 over a float64 base; a delta's own shape); null for the base's own.</summary>
    private TensorInfo? Shown(string name)
    {
        var wide = _base.Find(name)?.DType == SafetensorsDType.F64 ? SafetensorsDType.F64 : SafetensorsDType.F32;
        if (_weights.TryGetValue(name, out var m)) return new TensorInfo(name, wide, m.DeltaShape);
        if (_biases.TryGetValue(name, out var b)) return new TensorInfo(name, wide, [_adapter.Find(b.BBias!)!.Shape[0]]);
        return _full.TryGetValue(name, out var stored) ? _adapter.Find(stored)! with { Name = name } : null;
    }

    /// <summary>
    /// A module's name in the base: as it is; else without its first part (an adapter trained on LlamaForCausalLM,
    /// model.layers.…, over a bare LlamaModel base, layers.…); else the one base name that ends with it; else as it is.
    /// </summary>
    private string Resolve(string name)
    {
        if (_base.Find(name) is not null) return name;
        if (name.IndexOf('.') is var dot and > 0 && _base.Find(name[(dot + 1)..]) is not null) return name[(dot + 1)..];
        var ending = _base.Tensors.Where(t => t.Name.EndsWith("." + name, StringComparison.Ordinal)).Take(2).ToList();
        return ending.Count == 1 ? ending[0].Name : name;
    }
}
