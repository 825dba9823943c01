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
/// L = Σk mean entropy of head k on the encoder, for one batch per task, with ∂L/∂θ accumulated into the parameters'
/// gradients. The objective is a sum over tasks, so task by task gives the same gradient as one graph; with
/// checkpointing each stage's activations are recomputed in the backward pass from the tensors kept between stages,
/// and the parameters' gradients are handed over after every stage, so no model-sized gradient ever exists.
/// </summary>
/// <param name="batchesPerStep">How many batches each task's batch holds: its objective is the sum of their mean entropies.</param>
public sealed class EntropyBackward(IFeatureStages model, IReadOnlyList<AdaMergingTask> tasks, GradientGraph graph, bool checkpointing, int batchesPerStep = 1)
{
    public TimeSpan Forward { get; private set; }

    public TimeSpan Backward { get; private set; }

    /// <summary>
    /// The objective as a 0-d tensor of <paramref name="objectiveType"/>. <paramref name="takeGradients"/> is called
    /// whenever the parameters' gradients hold a part of ∂L/∂θ that must be taken (and released) before more is
    /// accumulated: after each stage with checkpointing, else once at the end.
    /// </summary>
    public Tensor Run(IReadOnlyDictionary<string, Tensor> parameters, IReadOnlyList<long[]> batches, ScalarType computeType,
        ScalarType objectiveType, Device device, Action takeGradients)
    {
        Forward = Backward = TimeSpan.Zero;
        using var scope = NewDisposeScope();
        var bound = model.Bind(parameters);
        var total = zeros(1, dtype: objectiveType, device: device);
        if (graph == GradientGraph.WholeGraph && !checkpointing)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < tasks.Count; k++) total = total.Plus(Loss(k, bound, batches[k], computeType, objectiveType, device));
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
                ? CheckpointedLoss(k, bound, batches[k], computeType, objectiveType, device, takeGradients)
                : TimedLoss(k, bound, batches[k], computeType, objectiveType, device);
            losses[k] = loss.detach().MoveToOuterDisposeScope();
        }
        if (!checkpointing) takeGradients();
        foreach (var loss in losses) total = total.Plus(loss);   // the same float32 sum, in the same order, as one graph
        return total.MoveToOuterDisposeScope();
    }

    private Tensor TimedLoss(int k, IReadOnlyDictionary<string, Tensor> bound, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device)
    {
        var clock = Stopwatch.StartNew();
        var loss = Loss(k, bound, batch, computeType, objectiveType, device);
        Forward += clock.Elapsed;
        clock.Restart();
        loss.backward();
        Backward += clock.Elapsed;
        return loss;
    }

    /// <summary>Task k's mean entropy, its graph reaching the parameters.</summary>
    private Tensor Loss(int k, IReadOnlyDictionary<string, Tensor> bound, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device)
    {
        var pixels = Pixels(k, batch, device);
        var x = ModelInput.InComputeType(pixels, computeType);
        for (int s = 0; s < model.StageCount; s++) x = model.Stage(s, bound, x);
        return TaskObjective(tasks[k].Head.Logits(x.to_type(ModelInput.HeadType(pixels, tasks[k].Head)))).to_type(objectiveType);
    }

    /// <summary>
    /// Task k's entropy with activation checkpointing: a forward pass without a graph keeps the input of every stage;
    /// the head's backward gives ∂L/∂features; then, from the last stage down, each stage is run again with a graph
    /// from its kept input and backpropagated with the gradient of its output, which yields its input's gradient and
    /// that stage's parameters' gradients, taken at once.
    /// </summary>
    private Tensor CheckpointedLoss(int k, IReadOnlyDictionary<string, Tensor> bound, long[] batch, ScalarType computeType,
        ScalarType objectiveType, Device device, Action takeGradients)
    {
        var clock = Stopwatch.StartNew();
        var pixels = Pixels(k, batch, device);
        var kept = new Tensor[model.StageCount + 1];
        kept[0] = ModelInput.InComputeType(pixels, computeType);
        using (no_grad())
            for (int s = 0; s < model.StageCount; s++) kept[s + 1] = model.Stage(s, bound, kept[s]);
        var top = kept[model.StageCount].detach().requires_grad_(true);
        var loss = TaskObjective(tasks[k].Head.Logits(top.to_type(ModelInput.HeadType(pixels, tasks[k].Head)))).to_type(objectiveType);
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

    /// <summary>Σ over the task's batches of their mean entropy: the mean over all of them times their number (the same images are equal-sized batches).</summary>
    private Tensor TaskObjective(Tensor logits) => batchesPerStep == 1 ? AdaMergingRun.Entropy(logits) : AdaMergingRun.Entropy(logits).Times(batchesPerStep);

    private Tensor Pixels(int k, long[] batch, Device device) => tasks[k].Adaptation.Read(batch, device);
}
