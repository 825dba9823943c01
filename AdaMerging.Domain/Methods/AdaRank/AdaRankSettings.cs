namespace AdaMerging.Domain.Methods;

/// <summary>What AdaRank's masked updates are taken over (docs/algorithm.md, "AdaRank").</summary>
public enum AdaRankBase
{
    /// <summary>τk = θk − θ0 added to θ0 (the authors' TA).</summary>
    TaskArithmetic,

    /// <summary>τk − mean(τ) added to the fine-tuned models' mean (the authors' CART).</summary>
    Cart,

    /// <summary>Each task's part of TSV-M's orthogonalised update added to θ0 (this service's; not in the authors' code).</summary>
    Tsv,

    /// <summary>Each task's own Iso-CTS components and 1/K of the common subspace's added to θ0 (this service's; not in the authors' code).</summary>
    IsoCts,
}

/// <summary>How a mask's logits become its forward values (the authors' <c>soft_mask</c> switch).</summary>
public enum MaskEstimator
{
    /// <summary>The authors' default: forward 1 where σ(m/T) &gt; 0.5 else 0, gradient through σ(m/T).</summary>
    StraightThrough,

    /// <summary>The authors' soft mask: forward and gradient σ(m/T).</summary>
    Sigmoid,
}

/// <summary>AdaRank's settings, typed; the defaults are the authors' ViT-B/32 TA configuration (configs/adarank_B_T8/adarank_TA.yaml).</summary>
public sealed record AdaRankSettings
{
    public static AdaRankSettings Defaults { get; } = new();

    public AdaRankBase Base { get; init; } = AdaRankBase.TaskArithmetic;

    /// <summary>Iso-CTS's share of each matrix's rank for the common subspace, with <see cref="AdaRankBase.IsoCts"/> (the Iso-CTS authors' 0.8).</summary>
    public double CommonSpaceFraction { get; init; } = SpectralMerge.DefaultCommonSpaceFraction;

    /// <summary>Every λ's value before the first step (the authors' prior: 0.3 for TA, 2.3 for CART).</summary>
    public double InitialLambda { get; init; } = 0.3;

    /// <summary>The share of each matrix's top components kept at the start (the authors' 1.0 for TA, 0.16 for CART).</summary>
    public double InitialRankRatio { get; init; } = 1.0;

    /// <summary>The temperature T of σ(m/T) (the authors' mask_temp, 10).</summary>
    public double MaskTemperature { get; init; } = 10;

    public MaskEstimator Estimator { get; init; } = MaskEstimator.StraightThrough;

    /// <summary>Adam's learning rate, betas and ε for λ and the mask logits together.</summary>
    public AdaMergingSettings Optimiser { get; init; } = new() { Steps = 10_000, BatchSize = 16, LearningRate = 1e-3 };

    /// <summary>The logits' initial values: kept ±0.1 (straight-through) or 2 and 0 (sigmoid), as the authors' _mask_init.</summary>
    public (double Kept, double Dropped) InitialLogits => Estimator == MaskEstimator.StraightThrough ? (0.1, -0.1) : (2.0, 0.0);
}
