using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// The merges that work on each weight matrix's singular value decomposition (docs/algorithm.md, "TSV-M, Iso-C and
/// Iso-CTS"), as their authors' code computes them: TSV-M (task singular vectors, each task's top components in its
/// own share of the rank, the stacked singular vectors orthogonalised), Iso-C (the task-arithmetic sum with a flat
/// spectrum) and Iso-CTS (the sum's top subspace plus each task's own, flat spectrum). Tensors that are not matrices
/// are averaged over the tasks. θ = θ0 + α · the merged update.
/// </summary>
public static class SpectralMerge
{
    /// <summary>Iso-CTS's default share of the rank kept for the common subspace (the authors' 0.8).</summary>
    public const double DefaultCommonSpaceFraction = 0.8;

    /// <summary>Each tensor decomposed in its own shape (the authors' code).</summary>
    public static IReadOnlyList<long> OwnShape(string tensor, IReadOnlyList<long> shape) => shape;

    /// <summary>
    /// θ0 + α · update(τ of each tensor as [K, shape…], its name), tensor by tensor, checking for cancellation between
    /// them; <paramref name="shapeOf"/> gives the shape a tensor is decomposed as (a ResNet's convolutions as matrices).
    /// </summary>
    public static Dictionary<string, Tensor> Apply(TaskVectors vectors, Func<string, Tensor, Tensor> update, double alpha, CancellationToken ct,
        Func<string, IReadOnlyList<long>, IReadOnlyList<long>>? shapeOf = null)
    {
        shapeOf ??= OwnShape;
        using var _ = no_grad();
        using var merged = empty(vectors.ParameterCount, dtype: vectors.DType, device: vectors.Device);
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var taus = vectors.TaskSlice(i).reshape([vectors.TaskCount, .. shapeOf(vectors.Names[i], vectors.ShapeOf(i))]);
            var delta = update(vectors.Names[i], taus.to_type(ScalarType.Float32)).to_type(vectors.DType);
            vectors.Slice(merged, i).copy_(vectors.BaseSlice(i).Plus(delta.flatten().Times(alpha)));
        }
        return vectors.Views(merged);
    }

    /// <summary>
    /// TSV-M of one tensor: per task the SVD of τk keeps its top ⌊r · share⌋ components (share 1/K by default) in the
    /// task's own columns of U, entries of Σ and rows of Vᵀ; U and Vᵀ are replaced by their nearest orthogonal matrices
    /// (U'V' of their own SVDs) and U Σ Vᵀ is rebuilt. The authors' code leaves text_projection to the average.
    /// </summary>
    public static Tensor Tsv(string name, Tensor taus, double? rankShare = null)
    {
        if (!IsMatrix(taus, name, excludeTextProjection: true)) return RunningMean(taus);
        var (sumU, sumS, sumV, _) = Stacked(taus, rankShare);
        var (uu, vu) = Orthogonal(sumU);
        var (uv, vv) = Orthogonal(sumV);
        return linalg.multi_dot([uu, vu, diag(sumS), uv, vv]);
    }

    /// <summary>
    /// Each task's part of TSV-M's update, [K, shape…]: its block of the orthogonalised U, its singular values and its
    /// block of the orthogonalised Vᵀ; τk / K for what TSV-M averages. The parts add up to <see cref="Tsv"/>'s update.
    /// </summary>
    public static Tensor TsvParts(string name, Tensor taus, double? rankShare = null)
    {
        int k = (int)taus.shape[0];
        if (!IsMatrix(taus, name, excludeTextProjection: true)) return taus.DividedBy(k);
        var (sumU, sumS, sumV, r) = Stacked(taus, rankShare);
        var (uu, vu) = Orthogonal(sumU);
        var (uv, vv) = Orthogonal(sumV);
        var (u, v) = (uu.matmul(vu), uv.matmul(vv));
        return stack(Enumerable.Range(0, k).Select(i => r == 0 ? zeros_like(taus[i])
            : u.narrow(1, i * r, r).matmul(diag(sumS.narrow(0, i * r, r))).matmul(v.narrow(0, i * r, r))).ToArray());
    }

    /// <summary>Every task's TSV-M part of every tensor, as task vectors over the same base (AdaMerging's <c>vectors: tsv</c>).</summary>
    public static TaskVectors TsvComponents(TaskVectors vectors, double? rankShare, CancellationToken ct, Func<string, IReadOnlyList<long>, IReadOnlyList<long>>? shapeOf = null)
    {
        shapeOf ??= OwnShape;
        using var _ = no_grad();
        var packed = empty([vectors.TaskCount, vectors.ParameterCount], dtype: vectors.DType, device: vectors.Device);
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            ct.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var taus = vectors.TaskSlice(i).reshape([vectors.TaskCount, .. shapeOf(vectors.Names[i], vectors.ShapeOf(i))]).to_type(ScalarType.Float32);
            vectors.Slice(packed, i).copy_(TsvParts(vectors.Names[i], taus, rankShare).reshape(vectors.TaskCount, -1).to_type(vectors.DType));
        }
        return vectors.WithPacked(packed);
    }

    /// <summary>TSV-M's stacked factors of one matrix: each task's top ⌊r · share⌋ components in its own block, and that block size.</summary>
    private static (Tensor U, Tensor S, Tensor Vh, long Block) Stacked(Tensor taus, double? rankShare)
    {
        int k = (int)taus.shape[0];
        double share = rankShare ?? 1.0 / k;
        Tensor? sumU = null, sumS = null, sumV = null;
        long r = 0;
        for (int i = 0; i < k; i++)
        {
            var (u, s, v) = linalg.svd(taus[i], fullMatrices: false);
            sumU ??= zeros_like(u);
            sumS ??= zeros_like(s);
            sumV ??= zeros_like(v);
            r = (long)(s.shape[0] * share);
            if (r == 0) continue;
            sumU.narrow(1, i * r, r).copy_(u.narrow(1, 0, r));
            sumS.narrow(0, i * r, r).copy_(s.narrow(0, 0, r));
            sumV.narrow(0, i * r, r).copy_(v.narrow(0, 0, r));
        }
        return (sumU!, sumS!, sumV!, r);
    }

    /// <summary>Iso-C of one tensor: Σk τk with every singular value replaced by their mean (matrices); the mean elsewhere.</summary>
    public static Tensor IsoC(string name, Tensor taus)
    {
        int k = (int)taus.shape[0];
        var mean = Sum(taus).DividedBy(k);
        if (!IsMatrix(taus, name, excludeTextProjection: false)) return mean;
        var (u, s, v) = linalg.svd(mean.Times(k), fullMatrices: false);
        return linalg.multi_dot([u, diag(ones_like(s) * s.mean()), v]);
    }

    /// <summary>Iso-CTS of one tensor (<see cref="IsoCtsSpaceOf"/> rebuilt, U diag(s̄) Vᵀ) for matrices; the running mean elsewhere.</summary>
    public static Tensor IsoCts(string name, Tensor taus, double commonSpaceFraction = DefaultCommonSpaceFraction)
    {
        if (!IsMatrix(taus, name, excludeTextProjection: false)) return RunningMean(taus);
        var space = IsoCtsSpaceOf(taus, commonSpaceFraction);
        return linalg.multi_dot([space.U, diag(space.Flat), space.Vh]);
    }

    /// <summary>
    /// Iso-CTS's space of one matrix ([K, m, n]): the top singular vectors of Σk τk span a common subspace (the
    /// authors' fraction of the rank, adjusted so the rest divides among the tasks); each task's own top components
    /// outside it fill the rest; U and Vᵀ orthogonalised, the spectrum flat at its mean.
    /// </summary>
    public static IsoCtsSpace IsoCtsSpaceOf(Tensor taus, double commonSpaceFraction)
    {
        int k = (int)taus.shape[0];
        long rank = Math.Min(taus.shape[1], taus.shape[2]);
        long common = (long)(rank * commonSpaceFraction);
        common = rank - (long)Math.Round((rank - common) / (double)k, MidpointRounding.ToEven) * k;   // Python's round
        long perTask = (rank - common) / k;
        var (u, s, v) = linalg.svd(Sum(taus), fullMatrices: false);
        var commonU = u.narrow(1, 0, common);
        Tensor? spaceU = null, spaceS = null, spaceV = null;
        for (int i = 0; i < k; i++)
        {
            var w = taus[i];
            var (uTs, sTs, vTs) = linalg.svd(w - commonU.matmul(commonU.t()).matmul(w), fullMatrices: false);
            spaceU ??= zeros_like(uTs);
            spaceS ??= zeros_like(sTs);
            spaceV ??= zeros_like(vTs);
            if (perTask == 0) continue;
            spaceU.narrow(1, i * perTask, perTask).copy_(uTs.narrow(1, 0, perTask));
            spaceS.narrow(0, i * perTask, perTask).copy_(sTs.narrow(0, 0, perTask));
            spaceV.narrow(0, i * perTask, perTask).copy_(vTs.narrow(0, 0, perTask));
        }
        if (common > 0)
        {
            spaceU!.narrow(1, k * perTask, common).copy_(commonU);
            spaceS!.narrow(0, k * perTask, common).copy_(s.narrow(0, 0, common));
            spaceV!.narrow(0, k * perTask, common).copy_(v.narrow(0, 0, common));
        }
        var (uu, vu) = Orthogonal(spaceU!);
        var (uv, vv) = Orthogonal(spaceV!);
        return new IsoCtsSpace(uu.matmul(vu), ones_like(spaceS!) * spaceS!.mean(), uv.matmul(vv), perTask, common, k);
    }

    /// <summary>What the authors' code decomposes: 2-D tensors (TSV-M's code leaves text_projection to the average).</summary>
    public static bool IsMatrix(Tensor taus, string name, bool excludeTextProjection) =>
        taus.dim() == 3 && !(excludeTextProjection && name.Contains("text_projection", StringComparison.Ordinal));

    /// <summary>The nearest orthogonal matrix's two factors: U and Vᵀ of the input's thin SVD (their product is it).</summary>
    private static (Tensor U, Tensor Vh) Orthogonal(Tensor m)
    {
        var (u, _, vh) = linalg.svd(m, fullMatrices: false);
        return (u, vh);
    }

    /// <summary>Σk τk added in task order, as Python's sum over the list.</summary>
    private static Tensor Sum(Tensor taus)
    {
        var sum = taus[0].clone();
        for (int i = 1; i < taus.shape[0]; i++) sum.PlusInPlace(taus[i]);
        return sum;
    }

    /// <summary>The authors' running mean: m ← τ0, then m += (τi − m) / (i + 1).</summary>
    private static Tensor RunningMean(Tensor taus)
    {
        var mean = taus[0].clone();
        for (int i = 1; i < taus.shape[0]; i++) mean.PlusInPlace((taus[i] - mean).DividedBy(i + 1));
        return mean;
    }
}
