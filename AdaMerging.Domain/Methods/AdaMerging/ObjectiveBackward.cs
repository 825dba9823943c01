using System.Diagnostics;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>How the objective's backward pass is taken (docs/algorithm.md, "Memory").</summary>
public enum GradientGraph
{
    /// <summary>Forward and backward one task at a time, gradients accumulated: one task's activations alive at once.</summary>
    TaskByTask,

    /// <summary>One graph over every task's batch, one backward (the paper's code): every task's activations alive at once.</summary>
    WholeGraph,
}

/// <summary>
/// L = Σk objective of task k's predictions on the model (its mean prediction entropy, or its mean KL from its expert's
/// predictions: <see cref="Objectives"/>), for one batch per task, with ∂L/∂θ accumulated into the parameters'
/// gradients. The objective is a sum over tasks, so task by task gives the same gradient as one graph; with
/// checkpointing each stage's activations are recomputed in the backward pass from the tensors kept between stages,
/// and the parameters' gradients are handed over after every stage, so no model-sized gradient ever exists.
/// </summary>
/// <param name="batchesPerStep">How many batches each task's batch holds: its objective is the sum of their mean objectives.</param>
public sealed class ObjectiveBackward(IFeatureStages model, IReadOnlyList<AdaMergingTask> tasks, GradientGraph graph, bool checkpointing, int batchesPerStep = 1,
    AdaMergingObjective objective = AdaMergingObjective.Entropy)
{
    public TimeSpan Forward { get; private set; }

    public TimeSpan Backward { get; private set; }

    /// <summary>
    /// The objective as a 0-d tensor of <paramref name="objectiveType"/>. <paramref name="takeGradients"/> is called
    /// whenever the parameters' gradients hold a part of ∂L/∂θ that must be taken (and released) before more is
    /// accumulated: after each stage with checkpointing, else once at the end.
    /// </summary>
    /// <param name="experts">With <see cref="AdaMergingObjective.ExpertKl"/>: each task's expert log-probabilities on its batch (<see cref="Predictions"/>).</param>
    public Tensor Run(IReadOnlyDictionary<string, Tensor> parameters, IReadOnlyList<long[]> batches, ScalarType computeType,
        ScalarType objectiveType, Device device, Action takeGradients, IReadOnlyList<Tensor>? experts = null)
    {
        if (objective == AdaMergingObjective.ExpertKl && experts?.Count != tasks.Count)
            throw new ArgumentException("the expert_kl objective needs each task's expert predictions", nameof(experts));
        Forward = Backward = TimeSpan.Zero;
        using var scope = NewDisposeScope();
        var bound = model.Bind(parameters);
        var total = zeros(1, dtype: objectiveType, device: device);
        if (graph == GradientGraph.WholeGraph && !checkpointing)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < tasks.Count; k++) total = total.Plus(Loss(k, bound, batches[k], computeType, objectiveType, device, experts?[k]));
            Forward = clock.Elapsed;
            clock.Restart();
            total.backward();
            Backward = clock.Elapsed;
            takeGradients();
            return total.detach().MoveToOuterDisposeScope();
        }
        // Last task first: each parameter's gradient then sums the tasks in the order one graph's backward pass
        // reaches them (the graph built last is taken first), so both give the same bits on the CPU.
        var losses = new Tensor[tasks.Count];
        for (int k = tasks.Count - 1; k >= 0; k--)
        {
            using var taskScope = NewDisposeScope();
            var loss = checkpointing
                ? CheckpointedLoss(k, bound, batches[k], computeType, objectiveType, device, experts?[k], takeGradients)
                : TimedLoss(k, bound, batches[k], computeType, objectiveType, device, experts?[k]);
            losses[k] = loss.detach().MoveToOuterDisposeScope();
        }
        if (!checkpointing) takeGradients();
        foreach (var loss in losses) total = total.Plus(loss);   // the same float32 sum, in the same order, as one graph
        return total.MoveToOuterDisposeScope();
    }

    private Tensor TimedLoss(int k, IReadOnlyDictionary<string, Tensor> bound, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device,
        Tensor? expert)
    {
        var clock = Stopwatch.StartNew();
        var loss = Loss(k, bound, batch, computeType, objectiveType, device, expert);
        Forward += clock.Elapsed;
        clock.Restart();
        loss.backward();
        Backward += clock.Elapsed;
        return loss;
    }

    /// <summary>
    /// Task k's predictions (log-probabilities, one row per prediction it counts) on its batch, without a graph: on the
    /// expert's parameters these are what <see cref="AdaMergingObjective.ExpertKl"/> matches (docs/algorithm.md, "Objectives").
    /// </summary>
    public Tensor Predictions(IReadOnlyDictionary<string, Tensor> parameters, int k, long[] batch, ScalarType computeType, Device device)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var bound = model.Bind(parameters);
        var input = Pixels(k, batch, device);
        var x = ModelInput.InComputeType(input, computeType);
        for (int s = 0; s < model.StageCount; s++) x = model.Stage(s, bound, x);
        return tasks[k].Head.LogProbabilities(bound, x, input).MoveToOuterDisposeScope();
    }

    /// <summary>Task k's objective, its graph reaching the parameters (<paramref name="expert"/>: its expert's predictions, for expert_kl).</summary>
    private Tensor Loss(int k, IReadOnlyDictionary<string, Tensor> bound, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device,
        Tensor? expert)
    {
        var input = Pixels(k, batch, device);
        var x = ModelInput.InComputeType(input, computeType);
        for (int s = 0; s < model.StageCount; s++) x = model.Stage(s, bound, x);
        return TaskObjective(tasks[k].Head.LogProbabilities(bound, x, input), expert).to_type(objectiveType);
    }

    /// <summary>
    /// Task k's objective with activation checkpointing: a forward pass without a graph keeps the input of every stage;
    /// the head's backward gives ∂L/∂features; then, from the last stage down, each stage is run again with a graph
    /// from its kept input and backpropagated with the gradient of its output, which yields its input's gradient and
    /// that stage's parameters' gradients, taken at once.
    /// </summary>
    private Tensor CheckpointedLoss(int k, IReadOnlyDictionary<string, Tensor> bound, long[] batch, ScalarType computeType,
        ScalarType objectiveType, Device device, Tensor? expert, Action takeGradients)
    {
        var clock = Stopwatch.StartNew();
        var pixels = Pixels(k, batch, device);
        var kept = new Tensor[model.StageCount + 1];
        kept[0] = ModelInput.InComputeType(pixels, computeType);
        using (no_grad())
            for (int s = 0; s < model.StageCount; s++) kept[s + 1] = model.Stage(s, bound, kept[s]);
        var top = kept[model.StageCount].detach().requires_grad_(true);
        var loss = TaskObjective(tasks[k].Head.LogProbabilities(bound, top, pixels), expert).to_type(objectiveType);
        Forward += clock.Elapsed;
        clock.Restart();
        loss.backward();
        var gradient = top.grad!;
        for (int s = model.StageCount - 1; s >= 0; s--)
        {
            using var stageScope = NewDisposeScope();
            var input = s == 0 ? kept[0] : kept[s].detach().requires_grad_(true);
            var output = model.Stage(s, bound, input);
            output.backward([gradient]);
            takeGradients();
            gradient = s == 0 ? gradient : input.grad!.MoveToOuterDisposeScope();
            kept[s + 1].Dispose();   // its stage is done: the memory goes back now, not at the end of the task
        }
        Backward += clock.Elapsed;
        return loss;
    }

    /// <summary>Σ over the task's batches of their mean objective: the mean over all of them times their number (equal-sized batches).</summary>
    private Tensor TaskObjective(Tensor logP, Tensor? expert)
    {
        var mean = objective == AdaMergingObjective.ExpertKl ? Objectives.KlFromExpert(expert!, logP) : Objectives.Entropy(logP);
        return batchesPerStep == 1 ? mean : mean.Times(batchesPerStep);
    }

    private Tensor Pixels(int k, long[] batch, Device device) => tasks[k].Adaptation.Read(batch, device);
}
