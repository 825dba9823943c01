using AdaMerging.Domain.Checkpoints;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>What a run's memory depends on, known before it starts: the model's shape, merged parameters N, K, evaluation.</summary>
public sealed record RunShape(ClipVisionConfig? Config, long Parameters, int Tasks, bool Evaluates, int EvaluationBatch);

/// <summary>
/// What a run holds at its peak beyond the process's own footprint, from the headers alone (docs/algorithm.md,
/// "Memory"): θ0 and the K task vectors, the merged weights and their gradient, and the activations autograd keeps.
/// </summary>
public sealed record MemoryEstimate(long Vectors, long Working, long ActivationsPerTask, long Activations)
{
    /// <summary>The estimated peak, in bytes.</summary>
    public long Total => Vectors + Working + Activations;

    /// <summary>
    /// Elements autograd keeps per image and transformer block: the block's input, the first LayerNorm's output, q, k,
    /// v, the attention's output and its merged heads, the residual sum and the second LayerNorm's output (9 · T·D),
    /// and the MLP's hidden layer before, inside and after the activation (3 · T·I).
    /// </summary>
    public static long BlockActivations(ClipVisionConfig c) => Tokens(c) * (9L * c.HiddenSize + 3L * c.IntermediateSize);

    public static long Tokens(ClipVisionConfig c) => (long)(c.ImageSize / c.PatchSize) * (c.ImageSize / c.PatchSize) + 1;

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
    public static MemoryEstimate AdaMergingSteps(ClipVisionConfig c, long parameters, int k, int batch, ScalarType storage,
        bool checkpointing, GradientGraph graph = GradientGraph.TaskByTask)
    {
        long bytes = ElementSize(storage);
        long block = BlockActivations(c) * batch * bytes;
        long images = (long)batch * c.NumChannels * c.ImageSize * c.ImageSize * 4;
        long stageInputs = (c.NumHiddenLayers + 2L) * Tokens(c) * c.HiddenSize * batch * bytes;
        long perTask = images + (checkpointing ? stageInputs + block : c.NumHiddenLayers * block);
        long activations = graph == GradientGraph.WholeGraph && !checkpointing ? k * perTask : perTask;
        long gradient = checkpointing ? Math.Min(parameters, BlockParameters(c)) : parameters;
        return new MemoryEstimate((k + 1L) * parameters * bytes, (parameters + gradient) * bytes + EngineOverhead(parameters), perTask, activations);
    }

    /// <summary>A transformer block's weights: q, k, v and the output projection (4 · D²), the MLP (2 · D·I), biases and norms.</summary>
    public static long BlockParameters(ClipVisionConfig c) =>
        4L * c.HiddenSize * c.HiddenSize + 2L * c.HiddenSize * c.IntermediateSize + 9L * c.HiddenSize + c.IntermediateSize;

    /// <summary>
    /// A data-free merge: θ0 and the K task vectors in float32, plus the model-sized buffers the method holds while it
    /// merges (<paramref name="workingCopies"/>: 1 for a weighted sum, K + 1 for TIES and DARE's processed vectors), or
    /// the evaluation's, whichever is larger.
    /// </summary>
    public static long DataFree(RunShape run, int workingCopies) =>
        Math.Max((run.Tasks + 1L + workingCopies) * run.Parameters * 4 + EngineOverhead(run.Parameters), Evaluation(run));

    /// <summary>
    /// The evaluation: θ0, the task vectors and one model at a time (the merged model, released after its column, then
    /// the base's, task arithmetic's and each task's own), and a batch's forward without a graph (a block's input,
    /// output and MLP hidden layer).
    /// </summary>
    public static long Evaluation(RunShape run)
    {
        if (!run.Evaluates || run.Config is not { } c) return 0;
        long forward = run.EvaluationBatch * (Tokens(c) * (2L * c.HiddenSize + c.IntermediateSize) * 4 + (long)c.NumChannels * c.ImageSize * c.ImageSize * 4);
        return (run.Tasks + 2L) * run.Parameters * 4 + forward + EngineOverhead(run.Parameters);
    }

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
    public static string? Problem(long estimate, long limit, string limitName) => limit <= 0 || estimate <= limit ? null
        : $"the merge needs an estimated {Gb(estimate)} of memory at its peak, over the limit of {Gb(limit)} ({limitName}); "
          + "for AdaMerging, checkpointing: true, precision: bfloat16 or a smaller batchSize lower it";

    public static string Gb(long bytes) => (bytes / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + " GB";
}
