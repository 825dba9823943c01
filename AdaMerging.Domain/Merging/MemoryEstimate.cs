using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>What a run's memory depends on, known before it starts: the model's cost per example (null when it cannot run), merged parameters N, K, evaluation.</summary>
/// <param name="LargestTensor">The largest merged tensor's elements.</param>
/// <param name="StreamWorkingBytes">A data-free merge's working memory when it streams (docs/algorithm.md, "Streamed merges"); 0 when it runs in memory.</param>
/// <param name="FactoredTaskElements">Where some task is a LoRA adapter: the elements its task vectors hold kept factored (<see cref="FactoredTaskVectors"/>); 0 otherwise.</param>
/// <param name="LanguageModelling">The tasks are a causal language model's (prompt data): the model scores the vocabulary at every token (<see cref="ModelMemory.TokenScores"/>).</param>
public sealed record RunShape(ModelMemory? Model, long Parameters, int Tasks, bool Evaluates, int EvaluationBatch, long LargestTensor = 0, long StreamWorkingBytes = 0,
    long FactoredTaskElements = 0, bool LanguageModelling = false)
{
    /// <summary>Next-token scores per example the run computes: the model's with language-model tasks, else none.</summary>
    public long TokenScores => LanguageModelling && Model is { } m ? m.TokenScores : 0;

    /// <summary>The task vectors' elements: K · N dense, or fewer kept factored where the method can (<paramref name="factored"/>).</summary>
    public long VectorElements(bool factored) => factored && FactoredTaskElements > 0 ? FactoredTaskElements : Tasks * Parameters;
}

/// <summary>
/// What a run holds at its peak beyond the process's own footprint, from the headers alone (docs/algorithm.md,
/// "Memory"): θ0 and the K task vectors, the merged weights and their gradient, and the activations autograd keeps.
/// </summary>
public sealed record MemoryEstimate(long Vectors, long Working, long ActivationsPerTask, long Activations)
{
    /// <summary>The estimated peak, in bytes.</summary>
    public long Total => Vectors + Working + Activations;

    /// <summary>
    /// What the engine itself takes once it computes (thread pools, kernels' workspaces, autograd's bookkeeping, the
    /// allocator's slack around the model's tensors): 35 MB plus 5 × the float32 model, at most 80 MB, as measured on
    /// this project's benchmark shapes from 0.1 MB to 1.2 GB models (docs/performance.md, "Memory").
    /// </summary>
    public static long EngineOverhead(long parameters) => 35_000_000 + Math.Min(45_000_000, 5 * 4 * parameters);

    /// <summary>
    /// The optimisation's peak: (K + 1) · N stored task vectors and θ0; the merged weights and ∂L/∂θ (2 · N); a batch of
    /// images and its activations, one task's (task by task) or all K (one graph); with checkpointing, the inputs of
    /// every stage and one block's activations instead, and ∂L/∂θ of one block only (it is contracted with τ stage by
    /// stage); and the engine's overhead. The peak comes at the end of a forward pass: the backward pass frees each
    /// block's activations as it makes their gradients.
    /// </summary>
    /// <param name="vectorElements">The task vectors' elements when not K · N (LoRA adapters kept factored).</param>
    /// <param name="tokenScores">A language model's next-token scores per example (0 for a classifier): autograd keeps four float32 copies per task
    /// (the logits, widened, their log-softmax and its exponential), and expert_kl holds every task's expert log-probabilities through the step, and one more copy while it compares.</param>
    public static MemoryEstimate AdaMergingSteps(ModelMemory model, long parameters, int k, int batch, ScalarType storage,
        bool checkpointing, GradientGraph graph = GradientGraph.TaskByTask, long? vectorElements = null, long tokenScores = 0, bool expertKl = false)
    {
        long scores = batch * tokenScores * 4;
        long bytes = ElementSize(storage);
        long block = model.BlockActivations * batch * bytes;
        long images = batch * model.InputBytes;
        long stageInputs = model.StageInputs * batch * bytes;
        long perTask = images + (checkpointing ? stageInputs + block : model.Blocks * block) + 4 * scores;
        long activations = (graph == GradientGraph.WholeGraph && !checkpointing ? k * perTask : perTask) + (expertKl ? (k + 1) * scores : 0);
        long gradient = checkpointing ? Math.Min(parameters, model.BlockParameters) : parameters;
        return new MemoryEstimate((parameters + (vectorElements ?? k * parameters)) * bytes, (parameters + gradient) * bytes + EngineOverhead(parameters), perTask, activations);
    }

    /// <summary>
    /// A streamed data-free merge: as <see cref="DataFree"/> over one stretch instead of the model — its elements, or the
    /// largest tensor's for a method that needs whole tensors — never more than the model itself. A weighted sum of
    /// 16-bit models holds two sets of K + 1 stored pieces of half a stretch and an output instead (read ahead:
    /// StoredPieceReader), within the same bound.
    /// </summary>
    public static long Streamed(RunShape run, int workingCopies, bool wholeTensors)
    {
        long stretch = Math.Min(run.Parameters, Streaming.StreamedMergeWriter.StretchElements(run.StreamWorkingBytes, run.Tasks));
        long elements = wholeTensors ? Math.Max(stretch, run.LargestTensor) : stretch;
        return (run.Tasks + 1L + workingCopies) * elements * 4 + EngineOverhead(elements);
    }

    /// <summary>
    /// A data-free merge: θ0 and the K task vectors in float32, plus the model-sized buffers the method holds while it
    /// merges (<paramref name="workingCopies"/>: 1 for a weighted sum, K + 1 for TIES and DARE's processed vectors), or
    /// the evaluation's, whichever is larger.
    /// </summary>
    /// <param name="factored">The vectors are kept factored where tasks are LoRA adapters (AdaMerging's plain vectors).</param>
    public static long DataFree(RunShape run, int workingCopies, bool factored = false) =>
        Math.Max((run.VectorElements(factored) + (1L + workingCopies) * run.Parameters) * 4 + EngineOverhead(run.Parameters), Evaluation(run, factored));

    /// <summary>
    /// The evaluation: θ0, the task vectors and one model at a time (the merged model, released after its column, then
    /// the base's, task arithmetic's and each task's own), and a batch's forward without a graph (a block's input,
    /// output and MLP hidden layer).
    /// </summary>
    public static long Evaluation(RunShape run, bool factored = false)
    {
        if (!run.Evaluates || run.Model is not { } model) return 0;
        long forward = Forward(model, run.EvaluationBatch) + 2 * run.EvaluationBatch * run.TokenScores * 4;   // a completion's scores, widened
        return (run.VectorElements(factored) + 2L * run.Parameters) * 4 + forward + EngineOverhead(run.Parameters);
    }

    /// <summary>A batch's forward pass without a graph: its input and what the model holds at once (float32).</summary>
    public static long Forward(ModelMemory model, int batch) => batch * (model.ForwardWithoutGraph * 4 + model.InputBytes);

    private static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 => 8,
        ScalarType.Float32 => 4,
        _ => 2,
    };
}

/// <summary>The refusal of a merge whose estimated peak exceeds a limit, in words a user can act on.</summary>
public static class MemoryLimit
{
    /// <summary>The merge as a whole (pointer "") over the limit, with what lowers its peak; null within it.</summary>
    public static RequestProblem? Problem(long estimate, long limit, string limitName) => limit <= 0 || estimate <= limit ? null
        : new("", RequestProblemCode.OverMemoryLimit,
            $"the merge needs an estimated {Gb(estimate)} of memory at its peak, over the limit of {Gb(limit)} ({limitName}); "
            + "for AdaMerging, checkpointing: true, precision: bfloat16 or a smaller batchSize lower it");

    public static string Gb(long bytes) => (bytes / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " GB";
}
