using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Datasets;
using TorchSharp;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>A model with batch norms: the same network normalising with batch statistics and reporting them, to re-estimate its running statistics.</summary>
public interface IBatchNormalised
{
    IFeatureStages WithBatchStatistics(BatchStatistics statistics);
}

/// <summary>
/// Batch-norm statistics re-estimated on unlabeled images after a merge (docs/algorithm.md, "Batch normalisation"), as
/// PyTorch's <c>torch.optim.swa_utils.update_bn</c> does: every layer normalises with its batch's statistics, and
/// its running mean and variance become the plain average over batches of each batch's mean and unbiased variance.
/// </summary>
public sealed class BatchStatistics : IDisposable
{
    private readonly Dictionary<string, (Tensor Mean, Tensor Variance, int Batches)> _sums = new(StringComparer.Ordinal);

    /// <summary>One batch's statistics of layer <paramref name="norm"/>: its mean and biased variance over <paramref name="count"/> values per channel.</summary>
    public void Record(string norm, Tensor mean, Tensor biasedVariance, long count)
    {
        using var _ = no_grad();
        using var correction = ((double)count / Math.Max(1, count - 1)).ToScalar();   // disposed after use: alive through the call
        var unbiased = biasedVariance.mul(correction);
        if (_sums.TryGetValue(norm, out var sum))
        {
            sum.Mean.add_(mean, RootedScalars.One);
            sum.Variance.add_(unbiased, RootedScalars.One);
            unbiased.Dispose();
            _sums[norm] = (sum.Mean, sum.Variance, sum.Batches + 1);
        }
        else
        {
            _sums[norm] = (mean.detach().clone().DetachFromDisposeScope(), unbiased.DetachFromDisposeScope(), 1);
        }
    }

    /// <summary>The layers recorded.</summary>
    public IReadOnlyCollection<string> Layers => _sums.Keys;

    /// <summary>
    /// Runs <paramref name="model"/> over the tasks' images and writes every layer's statistics into its
    /// <c>.running_mean</c> and <c>.running_var</c> in <paramref name="parameters"/> (in place). A batch takes
    /// batch / K consecutive images from each task that has any left, so every batch mixes the tasks; a last batch of
    /// one image is dropped (it has no variance).
    /// </summary>
    public static IReadOnlyCollection<string> Recompute(IBatchNormalised model, IReadOnlyDictionary<string, Tensor> parameters,
        IReadOnlyList<IExampleRows> tasks, int batch, CancellationToken ct = default)
    {
        using var statistics = new BatchStatistics();
        var stages = model.WithBatchStatistics(statistics);
        var device = parameters.Values.First().device;
        long share = Math.Max(1, batch / Math.Max(1, tasks.Count));
        using (no_grad())
            for (long start = 0; tasks.Any(t => t.Count > start); start += share)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var parts = tasks.Where(t => t.Count > start).Select(t => t.ReadRange(start, Math.Min(share, t.Count - start), device)).ToArray();
                var x = cat(parts, 0);
                if (x.shape[0] < 2) continue;
                stages.Features(parameters, x);
            }
        statistics.WriteInto(parameters);
        return [.. statistics.Layers];
    }

    /// <summary>Each layer's averages into its running statistics.</summary>
    public void WriteInto(IReadOnlyDictionary<string, Tensor> parameters)
    {
        using var _ = no_grad();
        foreach (var (norm, (mean, variance, batches)) in _sums)
        {
            using var count = ((double)batches).ToScalar();
            parameters[norm + ".running_mean"].copy_(mean.div(count));
            parameters[norm + ".running_var"].copy_(variance.div(count));
        }
    }

    public void Dispose()
    {
        foreach (var (mean, variance, _) in _sums.Values)
        {
            mean.Dispose();
            variance.Dispose();
        }
        _sums.Clear();
    }
}
