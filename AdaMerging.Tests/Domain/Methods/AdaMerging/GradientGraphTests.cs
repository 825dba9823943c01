using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// The objective's gradient taken task by task, and with activation checkpointing, against one graph over all tasks
/// (the paper's code): the same λ trajectory, bit for bit task by task, within float32 rounding with checkpointing (docs/algorithm.md, "Memory").
/// </summary>
public sealed class GradientGraphTests
{
    private static AdaMergingSettings Settings(GradientGraph graph, bool checkpointing, Granularity granularity = Granularity.Layer) => new()
    {
        Granularity = granularity, Steps = 20, LearningRate = 1e-2, Seed = 3, BatchSize = 4, Graph = graph, Checkpointing = checkpointing,
    };

    private static (double[] Lambda, IReadOnlyList<double> Objective) Run(EngineFixture f, AdaMergingSettings settings)
    {
        using var run = f.Run(settings);
        run.Run();
        return (run.RawLambda(), run.ObjectivePerStep);
    }

    [Theory]
    [InlineData(Granularity.Layer, ScalarType.Float32)]
    [InlineData(Granularity.Task, ScalarType.Float32)]
    [InlineData(Granularity.Layer, ScalarType.BFloat16)]
    public void Task_by_task_learns_the_whole_graph_s_lambda_over_20_steps_bit_for_bit(Granularity granularity, ScalarType dtype)
    {
        using var f = new EngineFixture(3, dtype);
        var whole = Run(f, Settings(GradientGraph.WholeGraph, false, granularity));
        var byTask = Run(f, Settings(GradientGraph.TaskByTask, false, granularity));

        // Tasks are taken last to first, so each parameter's gradient sums them in the order one graph's backward
        // does, and the entropies are summed first to last as one graph does: the same bits, not merely close ones.
        Assert.Equal(whole.Lambda, byTask.Lambda);
        Assert.Equal(whole.Objective, byTask.Objective);
        Assert.Contains(whole.Lambda, v => Math.Abs(v - 0.3) > 0.05);   // λ did move: the comparison means something
    }

    [Theory]
    [InlineData(Granularity.Layer)]
    [InlineData(Granularity.Task)]
    public void Checkpointing_learns_the_same_lambda_within_float32_rounding_and_the_same_objective(Granularity granularity)
    {
        using var f = new EngineFixture(3, ScalarType.Float32);
        var kept = Run(f, Settings(GradientGraph.TaskByTask, false, granularity));
        using var run = f.Run(Settings(GradientGraph.TaskByTask, true, granularity));
        run.Run();
        var recomputed = run.RawLambda();

        // The recomputed stages give ∂L/∂θ bit for bit, but each stage's gradient is contracted with τ as soon as it
        // exists (no model-sized gradient), so ⟨Σt gt, τ⟩ becomes Σt ⟨gt, τ⟩: float32 rounding in the λ gradient,
        // within 1e-5 after 20 Adam steps of 1e-2 (docs/algorithm.md, "Memory"). The keys' biases are left out: they
        // add the same amount to every attention logit of a query, so their true gradient is 0 and their λ follows
        // rounding noise in any implementation (Adam normalises it to whole steps) without changing the model.
        var rows = run.Layers.RowNames.Select((name, r) => (name, r)).Where(x => !x.name.EndsWith("k_proj.bias", StringComparison.Ordinal)).ToList();
        int k = f.Vectors.TaskCount;
        double largest = rows.SelectMany(x => Enumerable.Range(0, k).Select(j => Math.Abs(kept.Lambda[x.r * k + j] - recomputed[x.r * k + j]))).Max();
        Assert.True(largest <= 1e-5, $"largest |Δλ| {largest:E2}");
        Assert.Equal(kept.Objective.Count, run.ObjectivePerStep.Count);
        for (int step = 0; step < kept.Objective.Count; step++)
            Assert.Equal(kept.Objective[step], run.ObjectivePerStep[step], 1e-6 * Math.Abs(kept.Objective[step]));
        Assert.Contains(kept.Lambda, v => Math.Abs(v - 0.3) > 0.05);   // λ did move: the comparison means something
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Over_500_steps_the_live_tensor_count_never_moves(bool checkpointing)
    {
        using var f = new EngineFixture(2, ScalarType.Float32);
        var start = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var counts = new List<long>();
        using (var run = f.Run(Settings(GradientGraph.TaskByTask, checkpointing) with { Steps = 500 }))
            run.Run(p =>
            {
                if (p.Step % 50 == 0) counts.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            });
        Assert.Equal(10, counts.Count);
        Assert.Single(counts.Distinct());
        Assert.Equal(start, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
