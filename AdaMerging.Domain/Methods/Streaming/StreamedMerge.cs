using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods.Streaming;

/// <summary>
/// A data-free method's merge over the model a stretch at a time, never whole (docs/algorithm.md, "Streamed merges"):
/// what the method needs of the whole model is learned in passes over the stretches first (TIES's trim thresholds and
/// majority sign), then each stretch is merged alone. The merged tensors are bit for bit the in-memory merge's.
/// </summary>
public abstract class StreamedMerge
{
    /// <summary>Passes over the stretches before the merging one (numbered 0…; the merging pass is number <see cref="Passes"/>).</summary>
    public virtual int Passes => 0;

    /// <summary>
    /// Whether the method computes in float64 for a model stored narrower than float32 (bfloat16, float16), so that the
    /// merged values are the exact result rounded once (float32 lands a bfloat16 tie on the wrong side about once in 70).
    /// </summary>
    public virtual bool ExactInFloat64 => false;

    /// <summary>
    /// c when the merge is θ0 + c · Σk τk (task arithmetic: λ; weight averaging: 1/K): tensors stored as bfloat16 or
    /// float16 are then merged from their stored values in one C# pass (<see cref="StoredWeightedSum"/>); null otherwise.
    /// </summary>
    public virtual double? UniformCoefficient(int taskCount) => null;

    /// <summary>Whether a tensor may be cut into row ranges: true for methods that merge entry by entry.</summary>
    public virtual bool CutsTensors => true;

    /// <summary>Called before each pass, the merging one included, with the task count and the merged parameters in all.</summary>
    public virtual void BeginPass(int pass, int taskCount, long parameterCount) { }

    /// <summary>A stretch's task vectors as the method merges them (DARE's dropped ones): the stretch itself by default, else new ones the caller disposes.</summary>
    public virtual TaskVectors Prepare(TaskVectors stretch) => stretch;

    /// <summary>What a pass before the merging one learns from a (prepared) stretch.</summary>
    public virtual void Observe(int pass, TaskVectors vectors) { }

    public virtual void EndPass(int pass) { }

    /// <summary>The stretch's merged tensors in its dtype, by its keys (views of one buffer the caller owns).</summary>
    public abstract Dictionary<string, Tensor> Merge(TaskVectors vectors, CancellationToken ct);
}

/// <summary>A method whose every tensor is merged alone, in any dtype: no pass before the merging one.</summary>
public sealed class TensorByTensor(Func<TaskVectors, CancellationToken, Dictionary<string, Tensor>> merge, bool cutsTensors, bool exactInFloat64 = true,
    Func<int, double>? uniformCoefficient = null) : StreamedMerge
{
    public override double? UniformCoefficient(int taskCount) => uniformCoefficient?.Invoke(taskCount);

    public override bool CutsTensors => cutsTensors;

    public override bool ExactInFloat64 => exactInFloat64;

    public override Dictionary<string, Tensor> Merge(TaskVectors vectors, CancellationToken ct) => merge(vectors, ct);
}
