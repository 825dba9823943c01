using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Merging;

/// <summary>
/// The objective's gradient taken task by task, and with activation checkpointing, against one graph over all tasks
/// (the paper's code): the same λ trajectory (docs/algorithm.md, "Memory").
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

    [Fact]
    public void Checkpointing_learns_the_same_lambda_bit_for_bit_as_keeping_the_activations()
    {
        using var f = new EngineFixture(3, ScalarType.Float32);
        var kept = Run(f, Settings(GradientGraph.TaskByTask, false));
        var recomputed = Run(f, Settings(GradientGraph.TaskByTask, true));
        Assert.Equal(kept.Lambda, recomputed.Lambda);
        Assert.Equal(kept.Objective, recomputed.Objective);
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
