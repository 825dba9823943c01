using AdaMerging.Domain.Methods;

namespace AdaMerging.Domain.Merging;

/// <summary>The dtype task vectors are stored and the optimisation's forward/backward run in.</summary>
#pragma warning disable CA1720 // the members are the wire names float32 and bfloat16
public enum Precision
{
    Float32,
    Bfloat16,
}
#pragma warning restore CA1720

/// <summary>AdaMerging's settings, typed; the defaults are the options' declared ones (<see cref="AdaMergingMethod"/>).</summary>
public sealed record AdaMergingSettings
{
    public Granularity Granularity { get; init; } = AdaMergingMethod.GranularityOption.DefaultValue;

    public LayerUnit LayerUnit { get; init; } = AdaMergingMethod.LayerUnitOption.DefaultValue;

    /// <summary>AdaMerging++: learn coefficients over TIES-processed task vectors.</summary>
    public bool Plus { get; init; } = AdaMergingMethod.Plus.DefaultValue;

    public double TopK { get; init; } = TiesMethod.TopK.DefaultValue;

    public double InitialLambda { get; init; } = AdaMergingMethod.InitialLambda.DefaultValue;

    public double LearningRate { get; init; } = AdaMergingMethod.LearningRate.DefaultValue;

    public double Beta1 { get; init; } = AdaMergingMethod.Beta1.DefaultValue;

    public double Beta2 { get; init; } = AdaMergingMethod.Beta2.DefaultValue;

    public double Epsilon { get; init; } = AdaMergingMethod.Epsilon.DefaultValue;

    public int Steps { get; init; } = (int)AdaMergingMethod.Steps.DefaultValue;

    public int BatchSize { get; init; } = (int)AdaMergingMethod.BatchSize.DefaultValue;

    public long Seed { get; init; } = AdaMergingMethod.Seed.DefaultValue;

    /// <summary>
    /// Float32 (the paper's), or Bfloat16: task vectors stored in bf16 (half their memory) and the optimisation's
    /// forward/backward in bf16, with λ, Adam and the entropy in float32. The final merge and the evaluation are float32.
    /// </summary>
    public Precision Precision { get; init; } = AdaMergingMethod.PrecisionOption.DefaultValue;

    public TorchSharp.torch.ScalarType StorageType => Precision == Precision.Bfloat16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32;
}
