using System.Diagnostics;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

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
/// checkpointing each stage's activations are recomputed in the backward pass from the tensors kept between stages.
/// </summary>
public sealed class EntropyBackward(IFeatureStages model, IReadOnlyList<AdaMergingTask> tasks, GradientGraph graph, bool checkpointing)
{
    public TimeSpan Forward { get; private set; }

    public TimeSpan Backward { get; private set; }

    /// <summary>The objective as a 0-d tensor of <paramref name="objectiveType"/>; the parameters' gradients hold ∂L/∂θ after it.</summary>
    public Tensor Run(IReadOnlyDictionary<string, Tensor> parameters, IReadOnlyList<long[]> batches, ScalarType computeType, ScalarType objectiveType, Device device)
    {
        Forward = Backward = TimeSpan.Zero;
        var total = zeros(1, dtype: objectiveType, device: device);
        if (graph == GradientGraph.WholeGraph && !checkpointing)
        {
            var clock = Stopwatch.StartNew();
            for (int k = 0; k < tasks.Count; k++) total = total + Loss(k, parameters, batches[k], computeType, objectiveType, device);
            Forward = clock.Elapsed;
            clock.Restart();
            total.backward();
            Backward = clock.Elapsed;
            return total.detach();
        }
        // Last task first: each parameter's gradient then sums the tasks in the order one graph's backward pass
        // reaches them (the graph built last is taken first), so both give the same bits on the CPU.
        var losses = new Tensor[tasks.Count];
        for (int k = tasks.Count - 1; k >= 0; k--)
        {
            using var scope = NewDisposeScope();
            var loss = checkpointing
                ? CheckpointedLoss(k, parameters, batches[k], computeType, objectiveType, device)
                : TimedLoss(k, parameters, batches[k], computeType, objectiveType, device);
            losses[k] = loss.detach().MoveToOuterDisposeScope();
        }
        foreach (var loss in losses) total = total + loss;   // the same float32 sum, in the same order, as one graph
        return total;
    }

    private Tensor TimedLoss(int k, IReadOnlyDictionary<string, Tensor> parameters, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device)
    {
        var clock = Stopwatch.StartNew();
        var loss = Loss(k, parameters, batch, computeType, objectiveType, device);
        Forward += clock.Elapsed;
        clock.Restart();
        loss.backward();
        Backward += clock.Elapsed;
        return loss;
    }

    /// <summary>Task k's mean entropy, its graph reaching the parameters.</summary>
    private Tensor Loss(int k, IReadOnlyDictionary<string, Tensor> parameters, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device)
    {
        var pixels = Pixels(k, batch, device);
        var features = model.Features(parameters, pixels.to_type(computeType)).to_type(pixels.dtype);
        return AdaMergingRun.Entropy(tasks[k].Head.Logits(features)).to_type(objectiveType);
    }

    /// <summary>
    /// Task k's entropy with activation checkpointing: a forward pass without a graph keeps the input of every stage;
    /// the head's backward gives ∂L/∂features; then, from the last stage down, each stage is run again with a graph
    /// from its kept input and backpropagated with the gradient of its output, which yields its input's gradient.
    /// </summary>
    private Tensor CheckpointedLoss(int k, IReadOnlyDictionary<string, Tensor> parameters, long[] batch, ScalarType computeType, ScalarType objectiveType, Device device)
    {
        var clock = Stopwatch.StartNew();
        var bound = model.Bind(parameters);
        var pixels = Pixels(k, batch, device);
        var kept = new Tensor[model.StageCount + 1];
        kept[0] = pixels.to_type(computeType);
        using (no_grad())
            for (int s = 0; s < model.StageCount; s++) kept[s + 1] = model.Stage(s, bound, kept[s]);
        var top = kept[model.StageCount].detach().requires_grad_(true);
        var loss = AdaMergingRun.Entropy(tasks[k].Head.Logits(top.to_type(pixels.dtype))).to_type(objectiveType);
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
            gradient = s == 0 ? gradient : input.grad!.MoveToOuterDisposeScope();
            kept[s + 1].Dispose();   // its stage is done: the memory goes back now, not at the end of the task
        }
        Backward += clock.Elapsed;
        return loss;
    }

    private Tensor Pixels(int k, long[] batch, Device device) => tasks[k].Adaptation.Read(batch, device);
}
