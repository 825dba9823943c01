using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// θ0 and K task vectors as a coefficient merge reads them (AdaMerging's steps, its final merge and the evaluation's
/// models): stored dense (<see cref="TaskVectors"/>) or, for LoRA adapters, as their factors
/// (<see cref="FactoredTaskVectors"/>; docs/algorithm.md, "AdaMerging over LoRA adapters").
/// </summary>
public interface ITaskVectorSet : IDisposable
{
    /// <summary>The merged tensors, in the base's order.</summary>
    IReadOnlyList<string> Names { get; }

    int TaskCount { get; }

    /// <summary>Merged parameters in all: N.</summary>
    long ParameterCount { get; }

    ScalarType DType { get; }

    Device Device { get; }

    IReadOnlyList<long> ShapeOf(int i);

    /// <summary>θ0,p + Σk c[p, k] τk,p into the flat buffer <paramref name="destination"/> [N], for coefficients [tensors, K].</summary>
    void MergeInto(Tensor destination, Tensor perTensor);

    /// <summary>⟨∂L/∂θi, τk,i⟩ for every task k: tensor i's part of ∂L/∂λ, [K].</summary>
    Tensor TensorGradient(int i, Tensor gradient);

    /// <summary>θ0 as shaped per-tensor views (the caller disposes the views, never θ0).</summary>
    Dictionary<string, Tensor> BaseParameters();
}

/// <summary>What every <see cref="ITaskVectorSet"/> does the same way: coefficients per layer and per tensor, and new models from them.</summary>
public static class TaskVectorSets
{
    /// <summary>Where each tensor lies in a flat buffer holding the tensors of <paramref name="shapes"/> one after another.</summary>
    public static (long[] Offsets, long[] Lengths) Layout(IReadOnlyList<IReadOnlyList<long>> shapes)
    {
        long[] lengths = [.. shapes.Select(s => s.Aggregate(1L, (a, b) => a * b))], offsets = new long[shapes.Count];
        for (int i = 1; i < shapes.Count; i++) offsets[i] = offsets[i - 1] + lengths[i - 1];
        return (offsets, lengths);
    }

    /// <summary>Per-tensor views [shape] into a flat buffer laid out like θ0.</summary>
    public static Dictionary<string, Tensor> Views(ITaskVectorSet set, Tensor flat)
    {
        var (offsets, lengths) = Layout([.. Enumerable.Range(0, set.Names.Count).Select(set.ShapeOf)]);
        return set.Names.Select((name, i) => (name, i)).ToDictionary(x => x.name, x =>
        {
            using var slice = flat.narrow(0, offsets[x.i], lengths[x.i]);
            return slice.view([.. set.ShapeOf(x.i)]);
        }, StringComparer.Ordinal);
    }

    /// <summary>The coefficients of each tensor, [tensors, K], gathered from a layer map's rows.</summary>
    public static Tensor PerTensor(ITaskVectorSet set, Tensor coefficients, LayerMap layers)
    {
        using var index = RowIndex(set, layers);
        return coefficients.to_type(set.DType).index_select(0, index);
    }

    /// <summary>∂L/∂λ before the clamp from each tensor's part (null for a tensor the objective never reached): [rows, K], row r summing the tensors of layer r.</summary>
    public static Tensor CoefficientGradient(ITaskVectorSet set, IReadOnlyList<Tensor?> perTensorParts, LayerMap layers, ScalarType dtype)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var perTensor = stack(perTensorParts.Select(g => g ?? zeros(set.TaskCount, dtype: set.DType, device: set.Device)).ToArray()).to_type(dtype);
        var rows = zeros([layers.Rows, set.TaskCount], dtype: dtype, device: set.Device);
        rows.index_add_(0, RowIndex(set, layers), perTensor, RootedScalars.One);
        return rows.MoveToOuterDisposeScope();
    }

    /// <summary>θ0 + Σk c(p, k) · τk,p for every merged tensor p (coefficients as 0-d tensors), a new model.</summary>
    public static Dictionary<string, Tensor> Combine(ITaskVectorSet set, Func<string, int, Tensor> coefficient) => Merged(set, () =>
        stack(set.Names.Select(p => stack(Enumerable.Range(0, set.TaskCount).Select(k => coefficient(p, k).to_type(set.DType)).ToArray()).to(set.Device)).ToArray()));

    /// <summary>θ0 + Σk c[row(p), k] · τk,p for coefficients [rows, K] over a layer map, a new model.</summary>
    public static Dictionary<string, Tensor> Merge(ITaskVectorSet set, Tensor coefficients, LayerMap layers) => Merged(set, () => PerTensor(set, coefficients, layers));

    /// <summary>A new model from per-tensor coefficients [tensors, K] (built inside this call's dispose scope).</summary>
    private static Dictionary<string, Tensor> Merged(ITaskVectorSet set, Func<Tensor> perTensor)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var merged = empty(set.ParameterCount, dtype: set.DType, device: set.Device);
        set.MergeInto(merged, perTensor());
        var result = Views(set, merged);
        foreach (var t in result.Values) t.MoveToOuterDisposeScope();
        return result;
    }

    private static Tensor RowIndex(ITaskVectorSet set, LayerMap layers) => tensor(set.Names.Select(p => (long)layers.RowOf(p)).ToArray(), device: set.Device);
}
