using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// WUDI merging against the project's PyTorch reference written from the authors' code (tools/make_wudi_fixture.py:
/// autograd through Σk ‖(τ − τk) τkᵀ‖² / ‖τk‖², torch.optim.Adam at lr 1e-5 for 300 iterations, on the spectral
/// fixture's K = 3 tasks), and its identity: over one task the merge is that task's model (docs/algorithm.md, "WUDI").
/// </summary>
public sealed class WudiTests
{
    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "spectral", file);

    private static TaskVectors FixtureVectors(int tasks)
    {
        var theta0 = SafetensorsFile.Open(Fixture("base.safetensors"));
        var sources = Enumerable.Range(0, tasks).Select(k => (ITensorSource)SafetensorsFile.Open(Fixture($"task{k}.safetensors"))).ToList();
        return TaskVectors.Load(theta0, sources, [], ScalarType.Float32, CPU);
    }

    private static Dictionary<string, Tensor> Merged(TaskVectors vectors) =>
        SpectralMerge.Apply(vectors, (_, taus) => Wudi.Update(taus), 1.0, CancellationToken.None);

    [Fact]
    public void Each_tensor_matches_the_reference_to_1e_6_and_each_matrix_moved_from_the_task_sum_by_over_1e_4()
    {
        using var vectors = FixtureVectors(3);
        var merged = Merged(vectors);
        using var expected = SafetensorsFile.Open(Fixture("wudi.safetensors"));
        var θ0 = vectors.BaseParameters();
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            string name = vectors.Names[i];
            using var reference = expected.Read(name);
            double difference = (merged[name] - reference).abs().max().item<float>();
            // The whole optimisation moves an element by at most 300 · 1e-5 = 3e-3: 1e-6 is a third of a per-mille of it.
            Assert.True(difference <= 1e-6, $"{name}: largest difference {difference:E2}");
            using var sum = θ0[name].Plus(vectors.TaskSlice(i).sum([0L]).reshape(vectors.ShapeOf(i).ToArray()));
            double moved = (merged[name] - sum).abs().max().item<float>();
            if (vectors.ShapeOf(i).Count == 2) Assert.True(moved > 1e-4, $"{name}: the optimiser moved it by only {moved:E2}");
        }
        foreach (var t in merged.Values) t.Dispose();
    }

    [Fact]
    public void Over_one_task_every_tensor_is_that_task_s_own_weight()
    {
        using var vectors = FixtureVectors(1);
        var merged = Merged(vectors);
        using var task = SafetensorsFile.Open(Fixture("task0.safetensors"));
        using var reference = SafetensorsFile.Open(Fixture("wudi_one_task.safetensors"));
        foreach (var (name, tensor) in merged)
        {
            Assert.True((tensor - task.Read(name)).abs().max().item<float>() <= 1e-6, $"{name}: not the task's weight");
            Assert.True((tensor - reference.Read(name)).abs().max().item<float>() <= 1e-6, $"{name}: not the reference's");
        }
        foreach (var t in merged.Values) t.Dispose();
    }

    [Fact]
    public void An_excluded_matrix_is_the_tasks_mean_and_zero_iterations_leave_the_task_sum()
    {
        using var vectors = FixtureVectors(3);
        int i = vectors.Names.ToList().IndexOf("blocks.0.mlp.fc1.weight");
        using var taus = vectors.TaskSlice(i).reshape([3, .. vectors.ShapeOf(i)]);
        using var excluded = Wudi.Update(taus, optimise: false);
        using var none = Wudi.Update(taus, iterations: 0);
        Assert.True((excluded - taus.mean([0])).abs().max().item<float>() <= 1e-7);
        Assert.True((none - taus.sum([0L])).abs().max().item<float>() == 0);
    }
}
