using AdaMerging.Domain.Checkpoints.Lora;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// θ0 and K task vectors where LoRA adapters' stay factored (docs/algorithm.md, "AdaMerging over LoRA adapters"): a
/// task's vector of an adapted weight is scaling · B·A, kept as B [m, r] and A [r, n]; of a tensor its adapter does not
/// touch, zero, kept as nothing; of anything else (a full fine-tune's tensors, an adapter's modules_to_save and trained
/// biases), dense. A merge adds c · scaling · B·A into each weight with one rank-r product (addmm), and ∂L/∂λ takes
/// ⟨G, scaling · B·A⟩ = scaling · Σ (BᵀG) ∘ A without forming B·A: memory is θ0 and the adapters, not K models.
/// </summary>
public sealed class FactoredTaskVectors : ITaskVectorSet, IDisposable
{
    /// <summary>Task k's vector of one tensor: its factors, dense values (flat), or nothing (zero).</summary>
    private sealed record Part(Tensor? Dense, Tensor? B, Tensor? A, double Scaling, bool Transposed);

    private readonly Tensor _theta0;
    private readonly Part?[,] _parts;
    private readonly long[] _offsets, _lengths;
    private readonly IReadOnlyList<long>[] _shapes;

    private FactoredTaskVectors(IReadOnlyList<string> names, IReadOnlyList<long>[] shapes, Tensor theta0, Part?[,] parts)
    {
        Names = names;
        _shapes = shapes;
        _theta0 = theta0;
        _parts = parts;
        (_offsets, _lengths) = TaskVectorSets.Layout(shapes);
    }

    public IReadOnlyList<string> Names { get; }

    public int TaskCount => _parts.GetLength(1);

    public long ParameterCount => _theta0.shape[0];

    public ScalarType DType => _theta0.dtype;

    public Device Device => _theta0.device;

    /// <summary>Resident bytes of θ0 and the tasks' parts (factors and dense values).</summary>
    public long Bytes => _theta0.numel() * _theta0.ElementSize + PartBytes(_parts);

    /// <summary>Whether any task is a LoRA adapter: then AdaMerging keeps its vectors factored.</summary>
    public static bool Applies(IReadOnlyList<ITensorCatalog> tasks) => tasks.Any(t => t is LoraTaskWeights);

    /// <summary>The elements the tasks' vectors of <paramref name="names"/> hold kept factored (an adapter's factors, a full task's N); 0 where none is an adapter.</summary>
    public static long Elements(IReadOnlyList<ITensorCatalog> tasks, IReadOnlyList<string> names, long parameters) =>
        !Applies(tasks) ? 0 : tasks.Sum(t => t is LoraTaskWeights lora ? lora.FactoredElements(names) : parameters);

    /// <summary>θ0 of the merged tensors and each task's parts, in <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static FactoredTaskVectors Load(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, IReadOnlyList<string> names, ScalarType dtype, Device device,
        CancellationToken ct = default)
    {
        var shapes = names.Select(n => theta0.Find(n)!.Shape).ToArray();
        var flat = empty(shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b)), dtype: dtype, device: device);
        var parts = new Part?[names.Count, tasks.Count];
        try
        {
            long offset = 0;
            for (int i = 0; i < names.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                long length = shapes[i].Aggregate(1L, (a, b) => a * b);
                using var slice = flat.narrow(0, offset, length);
                theta0.ReadInto(names[i], slice);
                for (int k = 0; k < tasks.Count; k++) parts[i, k] = Read(tasks[k], theta0, names[i], dtype, device);
                offset += length;
            }
            return new FactoredTaskVectors(names, shapes, flat, parts);
        }
        catch
        {
            flat.Dispose();
            DisposeParts(parts);
            throw;
        }
    }

    public IReadOnlyList<long> ShapeOf(int i) => _shapes[i];

    public void MergeInto(Tensor destination, Tensor perTensor)
    {
        using var _ = no_grad();
        using var host = perTensor.to_type(ScalarType.Float64).cpu();
        var c = host.data<double>().ToArray();
        for (int i = 0; i < Names.Count; i++)
        {
            using var slice = destination.narrow(0, _offsets[i], _lengths[i]);
            using var base0 = _theta0.narrow(0, _offsets[i], _lengths[i]);
            slice.copy_(base0);
            for (int k = 0; k < TaskCount; k++)
            {
                if (_parts[i, k] is not { } part || c[i * TaskCount + k] == 0) continue;
                double weight = c[i * TaskCount + k];
                if (part.Dense is { } dense) slice.PlusScaledInPlace(dense, weight);
                else AddProduct(slice, part, weight * part.Scaling);
            }
        }
    }

    public Tensor TensorGradient(int i, Tensor gradient)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var flat = gradient.reshape(-1);
        var parts = Enumerable.Range(0, TaskCount).Select(k => _parts[i, k] switch
        {
            null => zeros([], dtype: DType, device: Device),
            { Dense: { } dense } => flat.dot(dense),
            var p => Contracted(flat, p),
        }).ToArray();
        return stack(parts).MoveToOuterDisposeScope();
    }

    public Dictionary<string, Tensor> BaseParameters() => TaskVectorSets.Views(this, _theta0);

    public void Dispose()
    {
        _theta0.Dispose();
        DisposeParts(_parts);
    }

    /// <summary>
    /// Task's part of one tensor: nothing where it is the base's own, factors for an adapted weight, else τ = θk − θ0
    /// taken in float32 and only then stored in <paramref name="dtype"/>, as <see cref="TaskVectors.Load"/> takes it.
    /// </summary>
    private static Part? Read(ITensorSource task, ITensorSource theta0, string name, ScalarType dtype, Device device)
    {
        if (task is LoraTaskWeights lora)
        {
            if (lora.IsBase(name)) return null;
            if (lora.Factors(name, dtype) is var (b, a, scaling, transposed))
                using (b) using (a) return new Part(null, b.to(device), a.to(device), scaling, transposed);
        }
        var wideType = dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        using var scope = NewDisposeScope();
        var difference = task.Read(name, wideType).reshape(-1).Plus(theta0.Read(name, wideType).reshape(-1).neg());
        return new Part(difference.to(dtype, device, copy: true).MoveToOuterDisposeScope(), null, null, 0, false);
    }

    /// <summary>slice += weight · B·A in the tensor's stored 2-D form (its transpose where the delta is stored so).</summary>
    private static void AddProduct(Tensor slice, Part part, double weight)
    {
        using var matrix = part.Transposed ? slice.view(part.A!.shape[1], part.B!.shape[0]) : slice.view(part.B!.shape[0], part.A!.shape[1]);
        float alpha = (float)weight;   // TorchSharp's addmm_ takes float32 factors: the merge runs in float32 or narrower
        if (part.Transposed)
        {
            using var at = part.A!.t();
            using var bt = part.B!.t();
            matrix.addmm_(at, bt, 1f, alpha);
        }
        else matrix.addmm_(part.B!, part.A!, 1f, alpha);
    }

    /// <summary>⟨G, scaling · B·A⟩ (or with the transpose) = scaling · Σ (BᵀG) ∘ A: a rank-r product, never B·A.</summary>
    private static Tensor Contracted(Tensor flatGradient, Part part)
    {
        var (b, a) = (part.B!, part.A!);
        var g = part.Transposed ? flatGradient.view(a.shape[1], b.shape[0]).t() : flatGradient.view(b.shape[0], a.shape[1]);
        return b.t().mm(g).mul(a).sum().Times(part.Scaling);
    }

    private static long PartBytes(Part?[,] parts) => parts.Cast<Part?>().OfType<Part>()
        .Sum(p => new[] { p.Dense, p.B, p.A }.OfType<Tensor>().Sum(t => t.numel() * t.ElementSize));

    private static void DisposeParts(Part?[,] parts)
    {
        foreach (var p in parts.Cast<Part?>().OfType<Part>())
        {
            p.Dense?.Dispose();
            p.B?.Dispose();
            p.A?.Dispose();
        }
    }
}
