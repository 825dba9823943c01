using System.Text.RegularExpressions;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// The pre-trained parameters θ0 and each task's vector τk = θk − θ0, in memory, for the tensors that are merged:
/// floating tensors that every task has too and no exclusion pattern matches. Everything else is taken from the base.
/// </summary>
/// <remarks>
/// θ0 is one flat buffer [N] and the task vectors one matrix [K, N], so that a merge is one matrix-vector product per
/// tensor (θp = θ0,p + cpᵀ Tp, one pass over the task vectors) and so is ∂L/∂λ (Tp ∂L/∂θp); see docs/algorithm.md,
/// "Task vectors". Tensors are reached as slices of these two (<see cref="Slice"/>) or as shaped views of a flat buffer
/// (<see cref="Views"/>). Every merge in the service goes through <see cref="MergeInto"/>, so task arithmetic and
/// AdaMerging at equal coefficients give bit-identical weights.
/// </remarks>
public sealed partial class TaskVectors : ITaskVectorSet, IDisposable
{
    private readonly Tensor _theta0, _tau;
    private readonly long[] _offsets, _lengths;
    private readonly long[][] _shapes;
    private readonly bool _ownsBase;

    private TaskVectors(IReadOnlyList<string> names, long[][] shapes, Tensor theta0, Tensor tau, bool ownsBase = true)
    {
        Names = names;
        _shapes = shapes;
        (_offsets, _lengths) = TaskVectorSets.Layout(shapes);
        _theta0 = theta0;
        _tau = tau;
        _ownsBase = ownsBase;
    }

    /// <summary>The merged tensors, in the base's order.</summary>
    public IReadOnlyList<string> Names { get; }

    public int TaskCount => (int)_tau.shape[0];

    /// <summary>Merged parameters in all: N.</summary>
    public long ParameterCount => _theta0.shape[0];

    public ScalarType DType => _theta0.dtype;

    public Device Device => _theta0.device;

    /// <summary>Resident bytes of θ0 and the task vectors.</summary>
    public long Bytes => (_theta0.numel() + _tau.numel()) * _theta0.ElementSize;

    /// <summary>
    /// Reads θ0 and the task models; τk is computed in float32 (or wider) and only then stored in <paramref name="dtype"/>,
    /// so that bf16 storage rounds τ itself, not the difference of two rounded weights.
    /// </summary>
    public static TaskVectors Load(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, IReadOnlyList<string> excludePatterns,
        ScalarType dtype, Device device, CancellationToken ct = default) =>
        LoadTensors(theta0, tasks, MergedNames(theta0, tasks, excludePatterns), dtype, device, ct);

    /// <summary>As <see cref="Load"/>, for the given merged tensors only (a streamed merge's stretch of them, in the base's order).</summary>
    public static TaskVectors LoadTensors(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, IReadOnlyCollection<string> names,
        ScalarType dtype, Device device, CancellationToken ct = default)
    {
        var merged = names.ToHashSet(StringComparer.Ordinal);
        var entries = theta0.Tensors.Where(t => merged.Contains(t.Name)).ToList();
        var shapes = entries.Select(t => t.Shape.ToArray()).ToArray();
        long n = shapes.Sum(s => s.Aggregate(1L, (a, b) => a * b));
        var readAs = dtype is ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var vectors = new TaskVectors(entries.Select(t => t.Name).ToList(), shapes,
            empty(n, dtype: dtype, device: device), empty([tasks.Count, n], dtype: dtype, device: device));
        using (no_grad())
        {
            for (int i = 0; i < vectors.Names.Count; i++)
            {
                if (ct.IsCancellationRequested)
                {
                    vectors.Dispose();
                    ct.ThrowIfCancellationRequested();
                }
                using var scope = NewDisposeScope();
                var name = vectors.Names[i];
                var taskSlices = vectors.TaskSlice(i);
                if (dtype == readAs)
                {
                    // θ0 and each θk read straight into their places, τk = θk − θ0 in place: no temporary at all.
                    var base0 = vectors.BaseSlice(i);
                    theta0.ReadInto(name, base0);
                    for (int k = 0; k < tasks.Count; k++)
                    {
                        var row = taskSlices[k];
                        tasks[k].ReadInto(name, row);
                        row.sub_(base0);
                    }
                }
                else
                {
                    var base0 = theta0.Read(name, readAs).to(device).reshape(-1);
                    vectors.BaseSlice(i).copy_(base0);
                    for (int k = 0; k < tasks.Count; k++)
                    {
                        var thetaK = tasks[k].Read(name, readAs).to(device).reshape(-1);
                        taskSlices[k].copy_(thetaK - base0);   // reads may be views of the caller's tensors: never in place
                    }
                }
            }
        }
        // What a conversion's temporaries left in the allocator's free lists goes back to the system: after loading,
        // the process holds θ0 and the task vectors, not their history (docs/algorithm.md, "Memory").
        Compute.HostMemory.Current.Trim();
        return vectors;
    }

    /// <summary>
    /// The tensors a merge merges, in the base's order: the floating tensors the base and every task have, that no
    /// exclusion pattern matches. Everything else is carried from the base (docs/algorithm.md, "Notation").
    /// </summary>
    public static IReadOnlyList<string> MergedNames(ITensorCatalog theta0, IReadOnlyList<ITensorCatalog> tasks, IReadOnlyList<string> excludePatterns)
    {
        var excluded = excludePatterns.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))).ToList();
        return [.. theta0.Tensors.Where(t => t.DType.IsFloatingPoint && !excluded.Any(r => r.IsMatch(t.Name))
            && CheckpointCompatibility.SharedByAll(t.Name, tasks)).Select(t => t.Name)];
    }

    /// <summary>θ0 + Σk c(p, k) · τk,p for every merged tensor p (coefficients as 0-d tensors).</summary>
    public Dictionary<string, Tensor> Combine(Func<string, int, Tensor> coefficient) => TaskVectorSets.Combine(this, coefficient);

    /// <summary>θ0 + Σk c[row(p), k] · τk,p for coefficients [rows, K] over a layer map.</summary>
    public Dictionary<string, Tensor> Merge(Tensor coefficients, LayerMap layers) => TaskVectorSets.Merge(this, coefficients, layers);

    /// <summary>
    /// Writes θ0,p + Tpᵀ cp into the flat buffer <paramref name="destination"/> [N], for coefficients [tensors, K]:
    /// one pass over the task vectors, no temporary the size of the model.
    /// </summary>
    public void MergeInto(Tensor destination, Tensor perTensor)
    {
        using var _ = no_grad();
        for (int i = 0; i < Names.Count; i++)
        {
            using var slice = destination.narrow(0, _offsets[i], _lengths[i]);
            using var row = slice.unsqueeze(0);
            using var base0 = _theta0.narrow(0, _offsets[i], _lengths[i]);
            using var tau = _tau.narrow(1, _offsets[i], _lengths[i]);
            using var c = perTensor[i];
            using var c1 = c.unsqueeze(0);
            // addmm rather than addmv: the same speed in float32 (memory-bound), 11× faster in bf16 on this CPU (oneDNN).
            row.copy_(base0).addmm_(c1, tau);
        }
    }

    /// <summary>⟨∂L/∂θi, τk,i⟩ for every task k: tensor i's part of ∂L/∂λ, [K] (docs/algorithm.md, "The gradient ∂L/∂λ by the chain rule").</summary>
    public Tensor TensorGradient(int i, Tensor gradient)
    {
        using var _ = no_grad();
        using var tau = _tau.narrow(1, _offsets[i], _lengths[i]);
        using var column = gradient.reshape(-1, 1);
        using var product = tau.mm(column);
        return product.squeeze(1);
    }

    /// <summary>∂L/∂λ before the clamp from each tensor's part (<see cref="TensorGradient"/>, in <see cref="Names"/> order; null for a tensor the objective never reached): [rows, K], row r summing the tensors of layer r.</summary>
    public Tensor CoefficientGradient(IReadOnlyList<Tensor?> perTensorParts, LayerMap layers, ScalarType dtype) =>
        TaskVectorSets.CoefficientGradient(this, perTensorParts, layers, dtype);

    /// <summary>The coefficients of each tensor, [tensors, K], gathered from a layer map's rows.</summary>
    public Tensor PerTensor(Tensor coefficients, LayerMap layers) => TaskVectorSets.PerTensor(this, coefficients, layers);

    /// <summary>Per-tensor views [shape] into a flat buffer laid out like θ0.</summary>
    public Dictionary<string, Tensor> Views(Tensor flat) => TaskVectorSets.Views(this, flat);

    /// <summary>The same base with other task vectors [K, N] (TIES, DARE), which it takes over; disposing it frees only those.</summary>
    public TaskVectors WithPacked(Tensor tau) => new(Names, _shapes, _theta0, tau, ownsBase: false);

    /// <summary>Tensor i's part of a flat buffer [N] or of a task matrix [K, N], flat.</summary>
    public Tensor Slice(Tensor flatOrPacked, int i) => flatOrPacked.narrow(flatOrPacked.dim() - 1, _offsets[i], _lengths[i]);

    /// <summary>The shape of merged tensor i.</summary>
    public IReadOnlyList<long> ShapeOf(int i) => _shapes[i];

    /// <summary>τ of tensor i for every task, [K, len].</summary>
    public Tensor TaskSlice(int i) => Slice(_tau, i);

    /// <summary>θ0 of tensor i, flat.</summary>
    public Tensor BaseSlice(int i) => Slice(_theta0, i);

    /// <summary>θ0 over all merged tensors, flat [N] (a view; the caller disposes it, never θ0).</summary>
    public Tensor BaseFlat() => _theta0.view(-1);

    /// <summary>τk over all merged tensors, flat [N].</summary>
    public Tensor TaskRow(int k) => _tau[k];

    /// <summary>θ0 as shaped per-tensor views (the caller disposes the views, never θ0).</summary>
    public Dictionary<string, Tensor> BaseParameters() => Views(_theta0);

    public void Dispose()
    {
        _tau.Dispose();
        if (_ownsBase) _theta0.Dispose();
    }
}
