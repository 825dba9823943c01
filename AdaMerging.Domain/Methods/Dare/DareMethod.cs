using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using AdaMerging.Domain.Methods.Streaming;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>What DARE merges its dropped task vectors with.</summary>
public enum DareBase
{
    TaskArithmetic,
    Ties,
}

/// <summary>DARE: drop each τ entry with probability p, rescale by 1/(1 − p), then task arithmetic or TIES (docs/algorithm.md, "DARE").</summary>
public sealed class DareMethod : DataFreeMethod
{
    public static readonly NumberOption DropRate = new("dropRate", "The probability p with which each task-vector entry is dropped.", 0.9, 0, 1,
        maximumExclusive: true);

    public static readonly EnumOption<DareBase> MergeWith = new("dareBase", "What merges the dropped vectors: task_arithmetic or ties.", DareBase.TaskArithmetic);

    public static readonly IntegerOption Seed = new("seed", "The seed of the drop masks.", 0, long.MinValue, long.MaxValue);

    public override string Name => "dare";

    public override string Summary => "Drop each task-vector entry with probability p, rescale the rest by 1/(1 − p), then task arithmetic or TIES.";

    public override IReadOnlyList<OptionSpec> Options { get; } =
        [TaskArithmeticMethod.Lambda, DropRate, MergeWith, TiesMethod.TopK, TiesMethod.MergeRule, Seed];

    /// <summary>The dropped vectors [K, N], the output, and TIES's per-tensor slices when it merges them.</summary>
    protected override int WorkingCopies(int tasks) => tasks + 2;

    /// <summary>The dropped vectors stretch by stretch with the in-memory masks, merged by streamed task arithmetic or TIES.</summary>
    public override StreamedMerge Streamed(MergeContext context)
    {
        var o = context.Options;
        StreamedMerge then = MergeWith.In(o) == DareBase.Ties ? TiesMethod.StreamedApply(o)
            : new TensorByTensor((dropped, _) => dropped.Combine((_, _) => context.Scalar(TaskArithmeticMethod.Lambda.In(o))), cutsTensors: true,
                exactInFloat64: false);   // float32 masks, drawn as in memory
        return new StreamedDare(DropRate.In(o), Seed.In(o), then);
    }

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct)
    {
        var o = context.Options;
        using var dropped = Dare.Apply(vectors, DropRate.In(o), Seed.In(o));
        return MergeWith.In(o) == DareBase.Ties
            ? TiesMethod.Apply(o, dropped)
            : dropped.Combine((_, _) => context.Scalar(TaskArithmeticMethod.Lambda.In(o)));
    }
}
