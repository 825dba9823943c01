using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark;

/// <summary>
/// What the builds record about their task vectors and make here as reference merges: each task's flattened vector
/// over the trained tensors, their pairwise cosines, and θ0 + λ Σ τ (task arithmetic, weight averaging at λ = 1/K).
/// </summary>
public static class TaskVectorGeometry
{
    /// <summary>Per task, θ − θ0 over <paramref name="trained"/>, flattened into one vector.</summary>
    public static Dictionary<string, Tensor> Vectors(IReadOnlyDictionary<string, Tensor> θ0, IReadOnlyDictionary<string, Dictionary<string, Tensor>> fineTuned,
        IReadOnlyList<string> trained) =>
        fineTuned.ToDictionary(kv => kv.Key, kv => cat(trained.Select(k => (kv.Value[k] - θ0[k]).flatten()).ToList()));

    /// <summary>The cosine of every pair of vectors, in <paramref name="names"/>' order.</summary>
    public static double[][] Cosines(IReadOnlyDictionary<string, Tensor> vectors, IReadOnlyList<string> names) =>
        [.. names.Select(a => names.Select(b => (double)F.cosine_similarity(vectors[a], vectors[b], dim: 0).item<float>()).ToArray())];

    /// <summary>θ0 + λ Σ (θ − θ0) over every floating tensor (running statistics too: batchNormStatistics merge); integer ones as θ0's.</summary>
    public static Dictionary<string, Tensor> Combine(IReadOnlyDictionary<string, Tensor> θ0, IReadOnlyDictionary<string, Dictionary<string, Tensor>> fineTuned, double λ) =>
        θ0.ToDictionary(kv => kv.Key, kv => kv.Value.is_floating_point()
            ? kv.Value.Plus(fineTuned.Values.Select(θ => θ[kv.Key] - kv.Value).Aggregate((a, b) => a.Plus(b)).Times(λ)) : kv.Value);
}
