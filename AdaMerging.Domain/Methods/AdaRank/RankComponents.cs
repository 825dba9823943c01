using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// What AdaRank masks (docs/algorithm.md, "AdaRank"): the origin the updates are added to, and each task's update of
/// every merged tensor, a masked matrix as its thin SVD (U, s, Vᵀ) and any other tensor as it is. A mask's logits for
/// matrix t and task k lie at [k, <see cref="MaskOffset"/>[t], +rank) of one [K, <see cref="MaskLength"/>] tensor.
/// </summary>
public sealed class RankComponents : IDisposable
{
    private readonly Tensor[] _origin;
    private readonly Tensor?[,] _u, _s, _vh, _plain;

    private RankComponents(IReadOnlyList<string> names, IReadOnlyList<long[]> shapes, int tasks)
    {
        Names = names;
        Shapes = shapes;
        TaskCount = tasks;
        _origin = new Tensor[names.Count];
        (_u, _s, _vh, _plain) = (new Tensor?[tasks, names.Count], new Tensor?[tasks, names.Count], new Tensor?[tasks, names.Count], new Tensor?[tasks, names.Count]);
        MaskOffset = new int[names.Count];
        Ranks = new int[names.Count];
    }

    public IReadOnlyList<string> Names { get; }

    public IReadOnlyList<long[]> Shapes { get; }

    public int TaskCount { get; }

    /// <summary>Where tensor t's mask logits begin in a task's row; −1 for a tensor that is not masked.</summary>
    public int[] MaskOffset { get; }

    /// <summary>Tensor t's full rank min(m, n) when masked, else 0.</summary>
    public int[] Ranks { get; }

    public int MaskLength { get; private set; }

    /// <summary>The dtype of the factors, the merge and the optimisation.</summary>
    public ScalarType DType { get; private init; }

    public bool IsMasked(int t) => MaskOffset[t] >= 0;

    /// <summary>
    /// The components over <paramref name="vectors"/> as the base merge says: task_arithmetic adds τk to θ0; cart adds
    /// τk − mean(τ) to the fine-tuned models' mean θ0 + mean(τ) (the authors' CART); tsv adds each task's TSV-M part
    /// and iso_cts each task's Iso-CTS components to θ0, both decomposed in <paramref name="spectralShape"/> as the
    /// data-free merges are, so that every component kept at λ 1 is that merge.
    /// </summary>
    public static RankComponents Decompose(TaskVectors vectors, AdaRankSettings settings, Func<string, IReadOnlyList<long>, bool> masked, CancellationToken ct,
        Func<string, IReadOnlyList<long>, IReadOnlyList<long>>? spectralShape = null)
    {
        spectralShape ??= SpectralMerge.OwnShape;
        using var _ = no_grad();
        int k = vectors.TaskCount;
        var shapes = Enumerable.Range(0, vectors.Names.Count).Select(i => vectors.ShapeOf(i).ToArray()).ToList();
        // float32 as the authors' (float64 when the vectors are, for gradient checks)
        var result = new RankComponents(vectors.Names, shapes, k) { DType = vectors.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32 };
        int offset = 0;
        for (int t = 0; t < vectors.Names.Count; t++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            string name = vectors.Names[t];
            var taus = vectors.TaskSlice(t).reshape([k, .. shapes[t]]).to_type(result.DType);
            var origin = vectors.BaseSlice(t).reshape(shapes[t]).to_type(result.DType);
            bool isMasked = shapes[t].Length == 2 && masked(name, shapes[t]);
            var spectral = taus.reshape([k, .. spectralShape(name, shapes[t])]);
            IsoCtsSpace? space = null;
            switch (settings.Base)
            {
                case AdaRankBase.Cart:
                    var mean = taus.mean([0L]);
                    origin = origin.Plus(mean);
                    taus = taus - mean;
                    break;
                case AdaRankBase.Tsv:
                    taus = SpectralMerge.TsvParts(name, spectral).reshape(taus.shape);
                    break;
                case AdaRankBase.IsoCts when SpectralMerge.IsMatrix(spectral, name, excludeTextProjection: false):
                    space = SpectralMerge.IsoCtsSpaceOf(spectral, settings.CommonSpaceFraction);
                    // a masked matrix keeps the factors; only a tensor added whole needs its parts multiplied out
                    if (!isMasked) taus = stack(Enumerable.Range(0, k).Select(space.TaskPart).ToArray()).reshape(taus.shape);
                    break;
                case AdaRankBase.IsoCts:
                    taus = taus.DividedBy(k);
                    break;
            }
            result._origin[t] = origin.contiguous().MoveToOuterDisposeScope();
            result.MaskOffset[t] = isMasked ? offset : -1;
            for (int i = 0; i < k; i++)
            {
                if (!isMasked)
                {
                    result._plain[i, t] = taus[i].contiguous().MoveToOuterDisposeScope();
                    continue;
                }
                // Iso-CTS's own components: an SVD of its flat spectrum would choose an arbitrary basis of each task's space
                var (u, s, vh) = space is null ? linalg.svd(taus[i], fullMatrices: false) : space.TaskComponents(i);
                (result._u[i, t], result._s[i, t], result._vh[i, t]) = (u.contiguous().MoveToOuterDisposeScope(), s.contiguous().MoveToOuterDisposeScope(),
                    vh.contiguous().MoveToOuterDisposeScope());
            }
            if (!isMasked) continue;
            result.Ranks[t] = (int)result._s[0, t]!.shape[0];
            offset += result.Ranks[t];
        }
        result.MaskLength = offset;
        return result;
    }

    /// <summary>Writes origin + Σk λ[k, t] Δk,t into <paramref name="destination"/> (tensor t's shape), Δ masked by <paramref name="weights"/> [K, MaskLength] (the mask's forward values, 0/1 or σ).</summary>
    public void MergeInto(int t, Tensor destination, Tensor lambda, Tensor weights)
    {
        using var scope = NewDisposeScope();
        destination.copy_(_origin[t]);
        for (int k = 0; k < TaskCount; k++) destination.PlusInPlace(Update(k, t, weights).mul(lambda[k, t]));
    }

    /// <summary>Δk,t: Uk diag(w ⊙ s) Vkᵀ for a masked matrix, τk,t otherwise.</summary>
    public Tensor Update(int k, int t, Tensor weights)
    {
        if (!IsMasked(t)) return _plain[k, t]!.alias();
        var w = weights[k].narrow(0, MaskOffset[t], Ranks[t]);
        return (_u[k, t]! * (w * _s[k, t]!)).matmul(_vh[k, t]!);
    }

    /// <summary>
    /// The parts of ∂L/∂λ[k, t] and ∂L/∂(w ⊙ s) that tensor t's gradient G gives: ⟨G, Δk,t⟩, and for a masked matrix
    /// d = diag(Ukᵀ G Vk) times s (∂L/∂wi = s_i d_i), written into <paramref name="lambdaGradient"/> [K, T] and <paramref name="weightGradient"/> [K, MaskLength].
    /// </summary>
    public void AddGradients(int t, Tensor gradient, Tensor weights, Tensor lambdaGradient, Tensor weightGradient)
    {
        using var scope = NewDisposeScope();
        for (int k = 0; k < TaskCount; k++)
        {
            if (!IsMasked(t))
            {
                lambdaGradient[k, t].PlusInPlace((gradient * _plain[k, t]!).sum());
                continue;
            }
            var d = _u[k, t]!.t().matmul(gradient).mul(_vh[k, t]!).sum([1L]);
            var sd = d.mul(_s[k, t]!);
            lambdaGradient[k, t].PlusInPlace((weights[k].narrow(0, MaskOffset[t], Ranks[t]) * sd).sum());
            weightGradient[k].narrow(0, MaskOffset[t], Ranks[t]).PlusInPlace(sd);
        }
    }

    public Tensor Origin(int t) => _origin[t];

    public void Dispose()
    {
        foreach (var t in _origin) t?.Dispose();
        foreach (var group in new[] { _u, _s, _vh, _plain })
            foreach (var t in group) t?.Dispose();
    }
}
