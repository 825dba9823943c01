using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// Iso-CTS, isotropic merging in common and task-specific subspaces (Marczak et al., ICML 2025): the sum's top
/// subspace plus each task's own components outside it, orthogonalised, spectrum flat (docs/algorithm.md, "TSV-M,
/// Iso-C and Iso-CTS").
/// </summary>
public sealed class IsoCtsMethod : DataFreeMethod
{
    public static readonly NumberOption CommonSpaceFraction = new("commonSpaceFraction",
        "The share of each matrix's rank kept for the tasks' common subspace (the authors' 0.8); the rest is divided among the tasks.",
        SpectralMerge.DefaultCommonSpaceFraction, 0, 1);

    public override string Name => "iso_cts";

    public override string Summary => "θ = θ0 + α · Iso-CTS(τ): per matrix, the sum's top subspace plus each task's own, orthogonalised, flat spectrum; other tensors averaged.";

    protected override bool NeedsWholeTensors => true;

    public override IReadOnlyList<OptionSpec> Options { get; } = [TsvMethod.Alpha, CommonSpaceFraction];

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct)
    {
        double fraction = CommonSpaceFraction.In(context.Options);
        return SpectralMerge.Apply(vectors, (name, taus) => SpectralMerge.IsoCts(name, taus, fraction), TsvMethod.Alpha.In(context.Options), ct, context.SpectralShape);
    }
}
