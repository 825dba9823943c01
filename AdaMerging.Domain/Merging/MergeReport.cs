namespace AdaMerging.Domain.Merging;

/// <summary>Top-1 accuracies on one task's evaluation set; null where it was not measured.</summary>
public sealed record TaskAccuracy(string Task, double? Merged, double? Base, double? Individual, double? TaskArithmetic);

/// <summary>One row of the learned coefficients: the layer's name and λ per task as the merge used it (AdaMerging's clamped to its range).</summary>
public sealed record LayerCoefficients(string Layer, IReadOnlyList<double> Lambda);

/// <summary>AdaRank's learned mask of one matrix: its full rank and how many singular components each task keeps.</summary>
public sealed record KeptRank(string Tensor, int Rank, IReadOnlyList<int> Kept);

/// <summary>
/// The memory a run used beyond the worker's own footprint: estimated from the headers before it started, and
/// measured as the process's resident memory above its level when the run began, per phase (docs/algorithm.md,
/// "Memory"). On a GPU the measurement is the host's; the estimate is of the device's memory.
/// </summary>
public sealed record MemoryUsage(long EstimatedPeakBytes, long MeasuredPeakBytes, IReadOnlyDictionary<string, long> PhasePeakBytes, string Measured);

/// <summary>What a merge did and how well it did it (docs/algorithm.md, "Evaluation and the report").</summary>
/// <param name="Options">Every option of the method, the request's value or the default.</param>
/// <param name="MergedTensors">Tensors merged: the floating tensors the base and every task have (the coefficients cover these).</param>
/// <param name="CarriedTensors">Tensors of the base written unchanged (buffers, excluded, or not in every task, e.g. a text tower).</param>
/// <param name="Run">What makes the run reproducible: inputs' digests, device, threads, versions.</param>
/// <param name="Lora">Under output: lora, the adapter's rank and each matrix's reconstruction error, and the changed tensors it cannot carry.</param>
/// <param name="DroppedRows">Rows of the tasks' embedding and output matrices past the base's, left out under embeddingRows: base.</param>
/// <param name="KeptRanks">AdaRank: each masked matrix's rank and the components each task keeps (drawn as ranks.png).</param>
/// <param name="Completions">Language-model tasks: each task's completion scores (NLL, perplexity, exact match) per model; Accuracy is empty then.</param>
public sealed record MergeReport(
    string Method,
    IReadOnlyDictionary<string, object> Options,
    IReadOnlyList<string> TaskNames,
    IReadOnlyList<TaskAccuracy> Accuracy,
    TaskAccuracy? Average,
    IReadOnlyList<LayerCoefficients>? Coefficients,
    IReadOnlyList<double> ObjectivePerStep,
    IReadOnlyDictionary<string, double> PhaseSeconds,
    IReadOnlyList<string> Files,
    int MergedTensors = 0,
    int CarriedTensors = 0,
    RunRecord? Run = null,
    MemoryUsage? Memory = null,
    IReadOnlyList<DroppedRows>? DroppedRows = null,
    LoraOutput? Lora = null,
    IReadOnlyList<TaskCompletions>? Completions = null,
    TaskCompletions? CompletionsAverage = null,
    IReadOnlyList<KeptRank>? KeptRanks = null);
