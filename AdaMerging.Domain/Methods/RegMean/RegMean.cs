using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// RegMean (Jin et al., ICLR 2023) as FusionBench's regmean computes it (docs/algorithm.md, "RegMean"): per linear
/// layer W = (Σk G'k)⁻¹ Σk G'k Wkᵀ, transposed back, with Gk the mean Gram matrix XᵀX / rows of that layer's inputs
/// (a convolution is the linear map of its input patches, its weight read as [out, in · kh · kw]: this service's extension)
/// when task k's fine-tuned model runs on task k's examples, and G' = Gk with its off-diagonal entries times α; every
/// other merged tensor is the mean of the fine-tuned models'. Gram matrices are added up task by task: the memory is
/// one set of them and their sums, whatever K. A layer whose weight is stored [in, out] (GPT-2's Conv1D) is read and
/// written so, its solution the same.
/// </summary>
public sealed class RegMean(TaskVectors vectors, double alpha, Func<string, bool>? inputByOutput = null) : IDisposable
{
    public const double DefaultAlpha = 0.9;
    public const int DefaultExamples = 256;
    public const int DefaultBatchSize = 32;

    private readonly Dictionary<string, (Tensor Gram, Tensor GramTimesWeight)> _sums = new(StringComparer.Ordinal);
    private int _tasks;

    /// <summary>
    /// Task k's Gram matrices: its fine-tuned model (θ0 + τk and the fixed tensors) run without a graph on the first
    /// <paramref name="examples"/> of its images, <paramref name="batchSize"/> at a time, each linear layer's input
    /// folded into a running mean as FusionBench's hook does; then added to the sums.
    /// </summary>
    public void AddTask(int k, IModel model, IReadOnlyDictionary<string, Tensor> fixedParameters, IExampleRows images, int examples,
        int batchSize, Device device, CancellationToken ct)
    {
        using var _ = no_grad();
        var grams = new Dictionary<string, (Tensor Gram, long Rows)>(StringComparer.Ordinal);
        void Observe(string module, Tensor input)
        {
            if (!_weights.Contains(module + ".weight")) return;
            using var x = input.detach().reshape(-1, input.shape[^1]);
            using var xtx = x.t().matmul(x);
            long rows = x.shape[0];
            var next = grams.TryGetValue(module, out var seen) ? seen.Gram.Times(seen.Rows).Plus(xtx).DividedBy(seen.Rows + rows) : xtx.DividedBy(rows);
            seen.Gram?.Dispose();
            grams[module] = (next.DetachFromDisposeScope(), seen.Rows + rows);
        }
        using var scope = NewDisposeScope();
        var theta = vectors.Combine((_, j) => tensor(j == k ? 1f : 0f, device: vectors.Device));
        var parameters = theta.Concat(fixedParameters.Where(f => !theta.ContainsKey(f.Key))).ToDictionary(StringComparer.Ordinal);
        var observed = model.Observed(Observe);
        long count = Math.Min(examples, images.Count);
        for (long start = 0; start < count; start += batchSize)
        {
            ct.ThrowIfCancellationRequested();
            using var batchScope = NewDisposeScope();
            var batch = Enumerable.Range(0, (int)Math.Min(batchSize, count - start)).Select(i => start + i).ToArray();
            observed.Features(parameters, Models.ModelInput.InComputeType(images.Read(batch, device), vectors.DType));
        }
        foreach (var (module, (gram, _)) in grams)
        {
            Add(module, gram, theta[module + ".weight"]);
            gram.Dispose();
        }
        _tasks++;
    }

    /// <summary>Adds one task's Gram matrices directly (layer name without ".weight" → [in, in]) with its fine-tuned weights.</summary>
    public void AddGrams(IReadOnlyDictionary<string, Tensor> grams, IReadOnlyDictionary<string, Tensor> weights)
    {
        using var _ = no_grad();
        foreach (var (module, gram) in grams) Add(module, gram, weights[module + ".weight"]);
        _tasks++;
    }

    /// <summary>G' and G' Wᵀ of one layer added to its sums, in task order (FusionBench's sum over the list).</summary>
    private void Add(string module, Tensor gram, Tensor weight)
    {
        using var scope = NewDisposeScope();
        var reduced = ReduceOffDiagonal(gram, alpha);
        var weighted = reduced.matmul(InputByOutput(module, weight));
        if (_sums.TryGetValue(module, out var sum))
        {
            sum.Gram.PlusInPlace(reduced);
            sum.GramTimesWeight.PlusInPlace(weighted);
        }
        else _sums[module] = (reduced.DetachFromDisposeScope(), weighted.DetachFromDisposeScope());
    }

    /// <summary>The merged tensors: the mean of the fine-tuned models, each linear layer with a Gram matrix replaced by its RegMean solution.</summary>
    public Dictionary<string, Tensor> Merged()
    {
        using var _ = no_grad();
        if (_tasks != vectors.TaskCount) throw new InvalidOperationException($"{_tasks} of {vectors.TaskCount} tasks' Gram matrices were added");
        var merged = vectors.Combine((_, _) => tensor(1f / vectors.TaskCount, device: vectors.Device));
        foreach (var (module, (gram, weighted)) in _sums)
        {
            using var scope = NewDisposeScope();
            var target = merged[module + ".weight"];
            var (g, gw) = PinUnreachedInputs(gram, weighted, InputByOutput(module, target));
            var solution = linalg.inv(g).matmul(gw);
            target.copy_((IsInputByOutput(module) ? solution : solution.t()).reshape(target.shape));
        }
        return merged;
    }

    public void Dispose()
    {
        foreach (var (gram, weighted) in _sums.Values)
        {
            gram.Dispose();
            weighted.Dispose();
        }
    }

    private readonly HashSet<string> _weights = [.. vectors.Names];

    private bool IsInputByOutput(string module) => inputByOutput?.Invoke(module) ?? false;

    /// <summary>A layer's weight as [in, out]: nn.Linear's (and a convolution's, flattened) transposed, Conv1D's as stored.</summary>
    private Tensor InputByOutput(string module, Tensor weight) => IsInputByOutput(module) ? weight : weight.reshape(weight.shape[0], -1).t();

    /// <summary>
    /// An input no task's examples ever reached (a channel every ReLU zeroed: its Gram row and column are zero) leaves
    /// the system singular, and the outputs on the examples do not depend on its weights; those weights are pinned to
    /// the tasks' mean (Gii = 1, its row of Σ G Wᵀ the mean's), the other rows' solution unchanged (docs/algorithm.md, "RegMean").
    /// </summary>
    private static (Tensor Gram, Tensor GramTimesWeight) PinUnreachedInputs(Tensor gram, Tensor weighted, Tensor meanT)
    {
        using var unreached = gram.diagonal().eq(RootedScalars.Zero);
        if (!unreached.any().item<bool>()) return (gram.alias(), weighted.alias());
        using var pin = unreached.to_type(gram.dtype);
        return (gram.Plus(diag(pin)), where(unreached.unsqueeze(1), meanT, weighted));
    }

    /// <summary>FusionBench's reduce_non_diagonal_elements: G · (diag(1 − α) + α), the diagonal kept, the rest times α.</summary>
    private static Tensor ReduceOffDiagonal(Tensor gram, double alpha)
    {
        using var scope = NewDisposeScope();
        long n = gram.shape[0];
        var factor = diag(ones(n, dtype: gram.dtype, device: gram.device).Minus(alpha)).Plus(ScalarMath.Filled([n, n], alpha, gram.dtype, gram.device));
        return (gram * factor).MoveToOuterDisposeScope();
    }
}
