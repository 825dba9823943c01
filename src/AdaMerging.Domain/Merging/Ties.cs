using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// TIES processing (Yadav et al., 2023) as the spec fixes it: trim each τk to its top-k fraction by magnitude over the
/// whole model, elect a sign per entry (the majority sign where the sum is exactly 0), keep only agreeing entries.
/// </summary>
public static class Ties
{
    public static List<Dictionary<string, Tensor>> Process(TaskVectors vectors, double topK)
    {
        if (topK is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(topK), "top-k must be in (0, 1]");
        using var _ = no_grad();
        var trimmed = vectors.Tau.Select(tau => Trim(vectors.Names, tau, topK)).ToList();
        var gamma = vectors.Names.ToDictionary(p => p, p => trimmed.Select(t => t[p]).Aggregate((a, b) => a + b).sign());
        var majority = gamma.Values.Select(g => g.sum().AsDouble()).Sum() >= 0 ? 1.0 : -1.0;
        foreach (var g in gamma.Values) g.masked_fill_(g.eq(0), majority);
        var result = trimmed.Select(t => vectors.Names.ToDictionary(p => p, p => t[p] * t[p].sign().eq(gamma[p]))).ToList();
        foreach (var t in trimmed.SelectMany(d => d.Values).Concat(gamma.Values)) t.Dispose();
        return result;
    }

    /// <summary>TIES-merging: θ0 + λ · merge(τ').</summary>
    public static Dictionary<string, Tensor> Apply(TaskVectors vectors, double topK, string merge, double lambda)
    {
        var processed = Process(vectors, topK);
        var combined = MergeTaskVectors(vectors.Names, processed, merge);
        using var _ = no_grad();
        var result = vectors.Names.ToDictionary(p => p, p => vectors.Theta0[p] + lambda * combined[p], StringComparer.Ordinal);
        foreach (var t in processed.SelectMany(d => d.Values).Concat(combined.Values)) t.Dispose();
        return result;
    }

    /// <summary>Σk τ'k (sum, the AdaMerging paper's baseline) or its mean over the tasks whose entry is non-zero (TIES's own).</summary>
    public static Dictionary<string, Tensor> MergeTaskVectors(IReadOnlyList<string> names, List<Dictionary<string, Tensor>> processed, string merge)
    {
        using var _ = no_grad();
        return names.ToDictionary(p => p, p =>
        {
            var sum = processed.Select(t => t[p]).Aggregate((a, b) => a + b);
            if (merge == "sum") return sum;
            if (merge != "mean") throw new ArgumentException($"unknown TIES merge '{merge}': use sum or mean", nameof(merge));
            var count = processed.Select(t => t[p].ne(0).to_type(sum.dtype)).Aggregate((a, b) => a + b);
            return sum / count.clamp_min(1);
        });
    }

    /// <summary>Keeps the top-k fraction of τ's entries by absolute value, ranked over all merged tensors together.</summary>
    private static Dictionary<string, Tensor> Trim(IReadOnlyList<string> names, Dictionary<string, Tensor> tau, double topK)
    {
        var magnitudes = cat(names.Select(p => tau[p].abs().flatten()).ToArray());
        long n = magnitudes.numel(), keep = Math.Max(1, (long)Math.Round(n * topK));
        var threshold = keep >= n ? 0.0 : magnitudes.kthvalue(n - keep + 1, 0, false).values.AsDouble();
        magnitudes.Dispose();
        return names.ToDictionary(p => p, p => tau[p] * tau[p].abs().ge(threshold));
    }
}
