using AdaMerging.Domain.Compute;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// Iso-CTS's orthogonalised space of one matrix (docs/algorithm.md, "TSV-M, Iso-C and Iso-CTS"): U [m, R] and Vᵀ
/// [R, n], where task i owns components [i · PerTask, (i + 1) · PerTask) and the common subspace the <see cref="Common"/>
/// after K · PerTask, and the flat spectrum [R]. Iso-CTS's update is U diag(Flat) Vᵀ.
/// </summary>
public sealed record IsoCtsSpace(Tensor U, Tensor Flat, Tensor Vh, long PerTask, long Common, int Tasks)
{
    /// <summary>
    /// Task i's components, for AdaRank over Iso-CTS (docs/algorithm.md, "AdaRank"): its own at the flat value, then
    /// the common subspace's at 1/K of it, so that the K tasks' components add up to Iso-CTS. Thin factors (U, s, Vᵀ);
    /// its own first, so a mask that keeps the top components keeps them.
    /// </summary>
    public (Tensor U, Tensor S, Tensor Vh) TaskComponents(int i)
    {
        var own = (U.narrow(1, i * PerTask, PerTask), Flat.narrow(0, i * PerTask, PerTask), Vh.narrow(0, i * PerTask, PerTask));
        var shared = (U.narrow(1, Tasks * PerTask, Common), Flat.narrow(0, Tasks * PerTask, Common).DividedBy(Tasks), Vh.narrow(0, Tasks * PerTask, Common));
        return (cat([own.Item1, shared.Item1], 1), cat([own.Item2, shared.Item2], 0), cat([own.Item3, shared.Item3], 0));
    }

    /// <summary>Task i's part of Iso-CTS's update, its <see cref="TaskComponents"/> multiplied out; the K parts add up to U diag(Flat) Vᵀ.</summary>
    public Tensor TaskPart(int i)
    {
        var (u, s, vh) = TaskComponents(i);
        return (u * s).matmul(vh);
    }
}
