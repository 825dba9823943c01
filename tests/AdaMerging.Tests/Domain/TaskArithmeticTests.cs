using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain;

public sealed class TaskArithmeticTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private (string Base, List<string> Tasks) WriteFamily(int k)
    {
        var (theta0, tasks) = Checkpoints.Family(k);
        Checkpoints.Save(_dir.File("base.safetensors"), theta0);
        var paths = tasks.Select((t, i) =>
        {
            var p = _dir.File($"task{i}.safetensors");
            Checkpoints.Save(p, t);
            return p;
        }).ToList();
        return (_dir.File("base.safetensors"), paths);
    }

    [Fact]
    public void One_task_at_lambda_1_reproduces_the_fine_tuned_model_exactly()
    {
        var (basePath, tasks) = WriteFamily(1);
        var output = _dir.File("merged.safetensors");
        TaskArithmetic.Merge(basePath, tasks, 1.0, output, torch.CPU);
        foreach (var name in new[] { "encoder.weight", "encoder.bias" })
            Assert.True(Checkpoints.Load(tasks[0], name).equal(Checkpoints.Load(output, name)).all().item<bool>(), name);
    }

    [Fact]
    public void Lambda_one_over_K_equals_weight_averaging()
    {
        var (basePath, tasks) = WriteFamily(4);
        var output = _dir.File("merged.safetensors");
        TaskArithmetic.Merge(basePath, tasks, 1.0 / 4, output, torch.CPU);
        var average = torch.stack(tasks.Select(t => Checkpoints.Load(t, "encoder.weight"))).mean([0]);
        var merged = Checkpoints.Load(output, "encoder.weight");
        Assert.True(average.allclose(merged, rtol: 1e-6, atol: 1e-6), $"max diff {(average - merged).abs().max().item<float>()}");
    }

    [Fact]
    public void Merged_tensors_equal_base_plus_lambda_times_the_summed_task_vectors()
    {
        var (basePath, tasks) = WriteFamily(3);
        var output = _dir.File("merged.safetensors");
        var result = TaskArithmetic.Merge(basePath, tasks, 0.3, output, torch.CPU);
        var theta0 = Checkpoints.Load(basePath, "encoder.bias");
        var expected = theta0 + 0.3 * tasks.Select(t => Checkpoints.Load(t, "encoder.bias") - theta0).Aggregate((a, b) => a + b);
        Assert.True(expected.allclose(Checkpoints.Load(output, "encoder.bias"), rtol: 1e-6, atol: 1e-7));
        Assert.Equal(2, result.MergedTensors);
        Assert.Equal(1, result.CopiedTensors);
    }

    [Fact]
    public void Integer_buffers_are_copied_from_the_base_never_merged()
    {
        var (basePath, tasks) = WriteFamily(2);
        var output = _dir.File("merged.safetensors");
        TaskArithmetic.Merge(basePath, tasks, 0.3, output, torch.CPU);
        Assert.Equal(Checkpoints.Load(basePath, "encoder.position_ids").data<long>().ToArray(),
            Checkpoints.Load(output, "encoder.position_ids").data<long>().ToArray());
    }

    [Fact]
    public void Checkpoints_of_other_shapes_are_refused_naming_the_tensor()
    {
        var (basePath, _) = WriteFamily(1);
        var (_, wide) = Checkpoints.Family(1, cols: 9);
        Checkpoints.Save(_dir.File("wide.safetensors"), wide[0]);
        var error = Assert.Throws<IncompatibleCheckpointsException>(() =>
            TaskArithmetic.Merge(basePath, [_dir.File("wide.safetensors")], 0.3, _dir.File("m.safetensors"), torch.CPU));
        Assert.Contains("'encoder.weight' with shape [6, 9] where the base has [6, 5]", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("m.safetensors")));
    }

    [Fact]
    public void A_cancelled_merge_leaves_no_output()
    {
        var (basePath, tasks) = WriteFamily(2);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            TaskArithmetic.Merge(basePath, tasks, 0.3, _dir.File("m.safetensors"), torch.CPU, cancelled.Token));
        Assert.DoesNotContain(Directory.GetFiles(_dir.Path), f => f.Contains("m.safetensors", StringComparison.Ordinal));
    }
}
