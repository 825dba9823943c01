using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using AdaMerging.Domain.Methods.Streaming;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>A method that computes the merged weights from θ0 and the task vectors alone (no data, no gradient).</summary>
public abstract class DataFreeMethod : IMergeMethod
{
    public abstract string Name { get; }

    public abstract string Summary { get; }

    public abstract IReadOnlyList<OptionSpec> Options { get; }

    public bool NeedsAdaptationData => false;

    public long EstimatePeakBytes(MethodOptions options, RunShape run) => run.StreamWorkingBytes > 0
        ? MemoryEstimate.Streamed(run, StreamedWorkingCopies(run.Tasks), NeedsWholeTensors)
        : MemoryEstimate.DataFree(run, WorkingCopies(run.Tasks));

    /// <summary>Model-sized buffers the merge holds besides θ0 and the task vectors: its output alone by default.</summary>
    protected virtual int WorkingCopies(int tasks) => 1;

    /// <summary>Stretch-sized buffers a streamed merge holds besides θ0 and the task vectors: as in memory unless the method says.</summary>
    protected virtual int StreamedWorkingCopies(int tasks) => WorkingCopies(tasks);

    public MergeOutcome Merge(MergeContext context, CancellationToken ct)
    {
        var vectors = context.Vectors;
        ct.ThrowIfCancellationRequested();
        return context.Clock.Timed(MergePhase.Merge, () =>
        {
            using var _ = no_grad();
            return new MergeOutcome(Combine(context, vectors, ct));
        });
    }

    /// <summary>
    /// The merge a stretch of the model at a time (docs/algorithm.md, "Streamed merges"): by default each stretch
    /// through <see cref="Combine"/>, every tensor being merged alone; cut into row ranges unless <see cref="NeedsWholeTensors"/>.
    /// </summary>
    public virtual StreamedMerge Streamed(MergeContext context) =>
        new TensorByTensor((vectors, ct) => Combine(context, vectors, ct), !NeedsWholeTensors, uniformCoefficient: UniformCoefficient(context.Options));

    /// <summary>c(K) when the method is θ0 + c · Σk τk (<see cref="StreamedMerge.UniformCoefficient"/>); null otherwise.</summary>
    protected virtual Func<int, double>? UniformCoefficient(MethodOptions options) => null;

    /// <summary>True for methods that decompose each matrix (the spectral merges): a stretch then holds whole tensors.</summary>
    protected virtual bool NeedsWholeTensors => false;

    /// <summary>The merged tensors (views of one new flat buffer the caller owns); a long merge checks <paramref name="ct"/> as it goes.</summary>
    protected abstract Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct);
}
