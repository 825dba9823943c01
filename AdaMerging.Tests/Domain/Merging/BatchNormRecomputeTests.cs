using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Merging;

/// <summary>
/// What batchNormStatistics' auto decides on (docs/algorithm.md, "Batch normalisation"): recompute only where some
/// task's running statistics moved from the base's; checkpoints fine-tuned with frozen batch norms keep them.
/// </summary>
public sealed class BatchNormRecomputeTests
{
    [Fact]
    public void Statistics_count_as_moved_only_when_a_task_s_running_mean_or_variance_differs_from_the_base_s()
    {
        using var folder = ResNetTiny.OpenTorchVision();
        var θ0 = folder.Weights.Tensors.ToDictionary(t => t.Name, t => folder.Weights.Read(t.Name));
        // Fine-tuned with frozen batch norms: every weight moved, no running statistic did.
        var frozen = θ0.ToDictionary(kv => kv.Key, kv => folder.Spec!.IsRunningStatistic(kv.Key) || !kv.Value.is_floating_point() ? kv.Value.clone() : kv.Value.Plus(0.01));
        var trained = frozen.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        trained["layer2.0.bn1.running_var"][3] += 1e-3f;
        using var base0 = new InMemoryTensorSource(θ0);
        using var frozenTask = new InMemoryTensorSource(frozen);
        using var trainedTask = new InMemoryTensorSource(trained);

        Assert.False(BatchNormRecompute.StatisticsMoved(folder.Spec!, base0, [frozenTask, frozenTask]));
        Assert.True(BatchNormRecompute.StatisticsMoved(folder.Spec!, base0, [frozenTask, trainedTask]));
        Assert.Equal(16, θ0.Keys.Count(folder.Spec!.IsRunningStatistic));   // a mean and a variance for each of the 8 batch norms
        foreach (var t in θ0.Values.Concat(frozen.Values).Concat(trained.Values)) t.Dispose();
    }
}
