namespace AdaMerging.Domain.Merging;

/// <summary>AdaMerging's settings; the defaults are the paper's (spec: "Optimisation").</summary>
public sealed record AdaMergingSettings
{
    /// <summary>task (one λ per task) or layer (one per layer and task).</summary>
    public string Granularity { get; init; } = "layer";

    /// <summary>With layer granularity: tensor (the paper's) or block.</summary>
    public string LayerUnit { get; init; } = "tensor";

    /// <summary>AdaMerging++: learn coefficients over TIES-processed task vectors.</summary>
    public bool Plus { get; init; }

    public double TopK { get; init; } = 0.2;

    public double InitialLambda { get; init; } = 0.3;

    public double LearningRate { get; init; } = 1e-3;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Epsilon { get; init; } = 1e-8;

    public int Steps { get; init; } = 500;

    public int BatchSize { get; init; } = 16;

    public long Seed { get; init; }

    /// <summary>
    /// float32 (the paper's), or bfloat16: task vectors stored in bf16 (half their memory) and the optimisation's
    /// forward/backward in bf16 on the CPU's bf16 units, with λ, Adam and the entropy in float32. The final merge and
    /// the evaluation are float32 either way.
    /// </summary>
    public string Precision { get; init; } = "float32";

    public TorchSharp.torch.ScalarType StorageType => Precision == "bfloat16" ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32;

    public IReadOnlyList<string> Problems()
    {
        var p = new List<string>();
        if (Granularity is not ("task" or "layer")) p.Add($"granularity '{Jobs.MergeRequest.Shown(Granularity)}' is not task or layer");
        if (LayerUnit is not ("tensor" or "block")) p.Add($"layerUnit '{Jobs.MergeRequest.Shown(LayerUnit)}' is not tensor or block");
        if (Precision is not ("float32" or "bfloat16")) p.Add($"precision '{Jobs.MergeRequest.Shown(Precision)}' is not float32 or bfloat16");
        if (!(TopK is > 0 and <= 1)) p.Add($"topK {TopK} is outside (0, 1]");
        if (!double.IsFinite(InitialLambda) || Math.Abs(InitialLambda) > 10) p.Add($"initialLambda {InitialLambda} is outside [-10, 10]");
        if (!(LearningRate is >= 0 and <= 10)) p.Add($"learningRate {LearningRate} is outside [0, 10]");
        if (!(Beta1 is >= 0 and < 1) || !(Beta2 is >= 0 and < 1)) p.Add("betas must be in [0, 1)");
        if (!(Epsilon is > 0 and < 1)) p.Add($"epsilon {Epsilon} is outside (0, 1)");
        if (Steps is < 0 or > 100_000) p.Add($"steps {Steps} is outside 0-100000");
        if (BatchSize is < 1 or > 4096) p.Add($"batchSize {BatchSize} is outside 1-4096");
        return p;
    }
}
