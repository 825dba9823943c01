namespace AdaMerging.Domain.Methods;

/// <summary>The dtype task vectors are stored and the optimisation's forward/backward run in.</summary>
#pragma warning disable CA1720 // the members are the wire names float32 and bfloat16
public enum Precision
{
    Float32,
    Bfloat16,
}
#pragma warning restore CA1720

/// <summary>What AdaMerging learns coefficients over: the task vectors, their TIES-processed form, or each task's TSV-M part.</summary>
public enum TaskVectorKind
{
    Plain,
    Ties,
    Tsv,
}

/// <summary>How λ is kept in its range (docs/algorithm.md, "Coefficients past the clamp").</summary>
public enum LambdaBound
{
    /// <summary>The paper's: clamp(λ) in the forward pass; a λ that leaves the range gets no gradient and stays out.</summary>
    Clamp,

    /// <summary>Projected Adam: λ put back into the range after every step, so a λ at a bound keeps its gradient and can come back.</summary>
    Project,
}

/// <summary>
/// AdaMerging's settings, typed. The initial values are the paper's defaults and the one place they are written: the
/// method's options declare them as their defaults (AdaMerging.Domain/Methods/AdaMergingMethod.cs).
/// </summary>
public sealed record AdaMergingSettings
{
    public static AdaMergingSettings Defaults { get; } = new();

    public Granularity Granularity { get; init; } = Granularity.Layer;

    public LayerUnit LayerUnit { get; init; } = LayerUnit.Tensor;

    /// <summary>AdaMerging++: learn coefficients over TIES-processed task vectors.</summary>
    public bool Plus { get; init; } // false: plain AdaMerging

    /// <summary>What the coefficients scale (docs/algorithm.md, "AdaMerging over TSV-M's parts"); <see cref="Plus"/> is the name for <see cref="TaskVectorKind.Ties"/>.</summary>
    public TaskVectorKind Vectors { get; init; } = TaskVectorKind.Plain;

    /// <summary>The kind in effect: <see cref="Plus"/> means TIES.</summary>
    public TaskVectorKind EffectiveVectors => Plus ? TaskVectorKind.Ties : Vectors;

    /// <summary>With TSV vectors, each task's share of every matrix's rank; null for TSV-M's 1/K.</summary>
    public double? RankShare { get; init; }

    public double TopK { get; init; } = Ties.DefaultTopK;

    public double InitialLambda { get; init; } = 0.3;

    /// <summary>The range the coefficients are kept in: the paper's [0, 1].</summary>
    public (double Low, double High) LambdaRange { get; init; } = (0, 1);

    public LambdaBound LambdaBound { get; init; } = LambdaBound.Clamp;

    public double LearningRate { get; init; } = 1e-3;

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Epsilon { get; init; } = 1e-8;

    public int Steps { get; init; } = 500;

    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// Batches drawn per task in each step, their mean entropies added: 1 is the paper's description; the official
    /// layer-wise script adds 2 (its loop breaks after the second batch; docs/algorithm.md, "AdaMerging").
    /// </summary>
    public int BatchesPerStep { get; init; } = 1;

    public long Seed { get; init; } // 0

    /// <summary>
    /// Float32 (the paper's), or Bfloat16: task vectors stored in bf16 (half their memory) and the optimisation's
    /// forward/backward in bf16, with λ, Adam and the entropy in float32. The final merge and the evaluation are float32.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>
    /// Recompute each transformer block's activations in the backward pass instead of keeping them: the memory of one
    /// block's activations instead of all of them, for about one more forward pass of time (docs/algorithm.md, "Memory").
    /// </summary>
    public bool Checkpointing { get; init; }

    /// <summary>What is minimised: the paper's prediction entropy, or the KL from each task's expert (docs/algorithm.md, "Objectives").</summary>
    public AdaMergingObjective Objective { get; init; } = AdaMergingObjective.Entropy;

    /// <summary>Task by task (the service's) or one graph over all tasks (the paper's code; the benchmark compares them).</summary>
    public GradientGraph Graph { get; init; } = GradientGraph.TaskByTask;

    public TorchSharp.torch.ScalarType StorageType => Precision == Precision.Bfloat16 ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32;
}
