using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// Iso-C, isotropic merging in the common subspace (Marczak et al., ICML 2025): the task-arithmetic sum of each weight
/// matrix with its spectrum flattened to the mean singular value (docs/algorithm.md, "TSV-M, Iso-C and Iso-CTS").
/// </summary>
public sealed class IsoCMethod : DataFreeMethod
{
    public override string Name => "iso_c";

    public override string Summary => "θ = θ0 + α · Iso-C(τ): per matrix, Σk τk with a flat spectrum at its mean singular value; other tensors averaged.";

    protected override bool NeedsWholeTensors => true;

    public override IReadOnlyList<OptionSpec> Options { get; } = [TsvMethod.Alpha];

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct) =>
        SpectralMerge.Apply(vectors, SpectralMerge.IsoC, TsvMethod.Alpha.In(context.Options), ct, context.SpectralShape);
}
