using System.Globalization;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>The identities of docs/algorithm.md for the plain methods, through the merge run the worker and the command line share.</summary>
public sealed class TaskArithmeticTests : TempDirectoryTests
{

    private (string Base, List<string> Tasks) WriteFamily(int k, long cols = 5)
    {
        var (theta0, tasks) = TestCheckpoints.Family(k, cols: cols);
        TestCheckpoints.Save(Dir.File("base.safetensors"), theta0);
        var paths = tasks.Select((t, i) =>
        {
            var p = Dir.File($"task{i}.safetensors");
            TestCheckpoints.Save(p, t);
            return p;
        }).ToList();
        return (Dir.File("base.safetensors"), paths);
    }

    private string Merge(string method, string basePath, IReadOnlyList<string> tasks, double lambda = 0.3, CancellationToken ct = default)
    {
        var output = Path.Combine(Dir.Path, "out-" + Guid.NewGuid().ToString("N")[..6]);
        var options = method == "weight_averaging" ? "{}" : string.Create(CultureInfo.InvariantCulture, $$"""{"lambda": {{lambda:R}}}""");
        MergeRun.Execute(Plans.Files(method, options, basePath, tasks), torch.CPU, output, ct: ct);
        return Path.Combine(output, "model.safetensors");
    }

    [Fact]
    public void One_task_at_lambda_1_reproduces_the_fine_tuned_model_exactly()
    {
        var (basePath, tasks) = WriteFamily(1);
        var output = Merge("task_arithmetic", basePath, tasks, 1.0);
        foreach (var name in new[] { "encoder.weight", "encoder.bias" })
            Assert.True(TestCheckpoints.Load(tasks[0], name).equal(TestCheckpoints.Load(output, name)).all().item<bool>(), name);
    }

    [Fact]
    public void Lambda_one_over_K_equals_weight_averaging()
    {
        var (basePath, tasks) = WriteFamily(4);
        var average = torch.stack(tasks.Select(t => TestCheckpoints.Load(t, "encoder.weight"))).mean([0]);
        foreach (var merged in new[] { Merge("task_arithmetic", basePath, tasks, 1.0 / 4), Merge("weight_averaging", basePath, tasks) })
        {
            var w = TestCheckpoints.Load(merged, "encoder.weight");
            Assert.True(average.allclose(w, rtol: 1e-6, atol: 1e-6), $"max diff {(average - w).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void Merged_tensors_equal_base_plus_lambda_times_the_summed_task_vectors()
    {
        var (basePath, tasks) = WriteFamily(3);
        var output = Merge("task_arithmetic", basePath, tasks, 0.3);
        var theta0 = TestCheckpoints.Load(basePath, "encoder.bias");
        var expected = theta0.Plus(tasks.Select(t => TestCheckpoints.Load(t, "encoder.bias") - theta0).Aggregate((a, b) => a.Plus(b)).Times(0.3));
        Assert.True(expected.allclose(TestCheckpoints.Load(output, "encoder.bias"), rtol: 1e-6, atol: 1e-6));
    }

    [Fact]
    public void Integer_buffers_are_copied_from_the_base_never_merged()
    {
        var (basePath, tasks) = WriteFamily(2);
        var output = Merge("ties", basePath, tasks);
        Assert.Equal(TestCheckpoints.Load(basePath, "encoder.position_ids").data<long>().ToArray(),
            TestCheckpoints.Load(output, "encoder.position_ids").data<long>().ToArray());
    }

    [Fact]
    public void Checkpoints_of_other_shapes_are_refused_naming_the_tensor()
    {
        var (basePath, _) = WriteFamily(1);
        var (_, wide) = TestCheckpoints.Family(1, cols: 9);
        TestCheckpoints.Save(Dir.File("wide.safetensors"), wide[0]);
        var error = Assert.Throws<IncompatibleCheckpointsException>(() => Merge("task_arithmetic", basePath, [Dir.File("wide.safetensors")]));
        Assert.Contains("'encoder.weight' with shape [6, 9] where the base has [6, 5]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tasks_that_share_no_floating_tensor_with_the_base_are_refused_and_write_nothing()
    {
        var (basePath, _) = WriteFamily(1);
        TestCheckpoints.Save(Dir.File("other.safetensors"), new Dictionary<string, TorchSharp.torch.Tensor> { ["adapter.scale"] = TorchSharp.torch.ones(2, TorchSharp.torch.ScalarType.Int64) });
        var error = Assert.Throws<IncompatibleCheckpointsException>(() => Merge("task_arithmetic", basePath, [Dir.File("other.safetensors")]));
        Assert.Contains("share no floating tensor: nothing would be merged", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Directory.GetFiles(Dir.Path, "*.safetensors", SearchOption.AllDirectories), f => f.Contains("out-", StringComparison.Ordinal));
    }

    [Fact]
    public void A_cancelled_merge_leaves_no_model()
    {
        var (basePath, tasks) = WriteFamily(2);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => Merge("task_arithmetic", basePath, tasks, ct: cancelled.Token));
        Assert.DoesNotContain(Directory.GetFiles(Dir.Path, "*.safetensors", SearchOption.AllDirectories), f => f.Contains("out-", StringComparison.Ordinal));
    }
}
