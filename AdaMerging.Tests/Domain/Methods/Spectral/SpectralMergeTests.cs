using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// TSV-M, Iso-C and Iso-CTS against the project's PyTorch reference written from their authors' code
/// (tools/make_spectral_fixture.py: K = 3, matrices tall, wide, square and of a rank K does not divide, a vector, a
/// 3-D tensor, text_projection), and the identities they must keep (docs/algorithm.md, "TSV-M, Iso-C and Iso-CTS").
/// </summary>
public sealed class SpectralMergeTests
{
    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "spectral", file);

    private static TaskVectors FixtureVectors()
    {
        var theta0 = SafetensorsFile.Open(Fixture("base.safetensors"));
        var tasks = Enumerable.Range(0, 3).Select(k => (ITensorSource)SafetensorsFile.Open(Fixture($"task{k}.safetensors"))).ToList();
        return TaskVectors.Load(theta0, tasks, [], ScalarType.Float32, CPU);
    }

    public static TheoryData<string> Methods => ["tsv", "iso_c", "iso_cts"];

    [Theory]
    [MemberData(nameof(Methods))]
    public void Each_method_matches_the_PyTorch_reference_to_1e_5_on_every_tensor(string method)
    {
        using var vectors = FixtureVectors();
        Func<string, Tensor, Tensor> rule = method switch
        {
            "tsv" => (name, taus) => SpectralMerge.Tsv(name, taus),
            "iso_c" => SpectralMerge.IsoC,
            _ => (name, taus) => SpectralMerge.IsoCts(name, taus),
        };
        var merged = SpectralMerge.Apply(vectors, rule, 1.0, CancellationToken.None);
        using var expected = SafetensorsFile.Open(Fixture($"{method}.safetensors"));
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, tensor) in merged)
        {
            using var reference = expected.Read(name);
            double difference = (tensor - reference).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"{method} {name}: largest difference {difference:E2}");
            using var theta0 = vectors.BaseParameters()[name];
            Assert.True((tensor - theta0).abs().max().item<float>() > 1e-3, $"{method} {name}: the merge moved the weights");
        }
        foreach (var t in merged.Values) t.Dispose();
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void On_a_ResNet_each_convolution_is_decomposed_as_the_matrix_out_by_in_kh_kw_and_its_batch_norms_averaged(string method)
    {
        using var folder = Support.ResNetTiny.OpenTorchVision();
        var g = new TorchSharp.torch.Generator(5);
        var tasks = Enumerable.Range(0, 3).Select(_ => (ITensorSource)new InMemoryTensorSource(folder.Weights.Tensors.Where(t => !t.Name.StartsWith("fc.", StringComparison.Ordinal))
            .ToDictionary(t => t.Name, t => folder.Weights.Read(t.Name) is var v && v.is_floating_point() ? v.Plus(randn(v.shape, generator: g).Times(0.05)) : v), ownsTensors: true)).ToList();
        using var vectors = TaskVectors.Load(folder.Weights, tasks, [], ScalarType.Float32, CPU);
        Func<string, Tensor, Tensor> rule = method switch
        {
            "tsv" => (name, taus) => SpectralMerge.Tsv(name, taus),
            "iso_c" => SpectralMerge.IsoC,
            _ => (name, taus) => SpectralMerge.IsoCts(name, taus),
        };
        var merged = SpectralMerge.Apply(vectors, rule, 1.0, CancellationToken.None, folder.Spec!.SpectralShape);
        var mean = vectors.Combine((_, _) => tensor(1f / 3));
        var θ0 = vectors.BaseParameters();
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            var (name, shape) = (vectors.Names[i], vectors.ShapeOf(i).ToArray());
            if (shape.Length == 4)
            {
                using var taus = vectors.TaskSlice(i).reshape(3, shape[0], -1);
                using var expected = θ0[name].Plus(rule(name, taus).reshape(shape));
                Assert.True((merged[name] - expected).abs().max().item<float>() <= 1e-6, $"{method} {name}: not the matrix's merge");
                Assert.True((merged[name] - mean[name]).abs().max().item<float>() > 1e-3, $"{method} {name}: averaged, not decomposed");
            }
            else
                Assert.True((merged[name] - mean[name]).abs().max().item<float>() <= 1e-6, $"{method} {name}: not the tasks' mean");
        }
        foreach (var t in merged.Values.Concat(mean.Values).Concat(θ0.Values)) t.Dispose();
        tasks.ForEach(t => t.Dispose());
    }

    [Fact]
    public void Each_task_s_TSV_M_part_adds_up_to_TSV_M_s_update()
    {
        using var vectors = FixtureVectors();
        using var parts = SpectralMerge.TsvComponents(vectors, null, CancellationToken.None);
        for (int i = 0; i < vectors.Names.Count; i++)
        {
            var shape = vectors.ShapeOf(i).ToArray();
            using var taus = vectors.TaskSlice(i).reshape([3, .. shape]);
            using var update = SpectralMerge.Tsv(vectors.Names[i], taus);
            using var slice = parts.TaskSlice(i);
            using var sum = slice.sum(dim: 0).reshape(shape);
            float difference = (sum - update).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"{vectors.Names[i]}: largest difference {difference:E2}");
        }
        using var first = parts.TaskRow(0);
        using var second = parts.TaskRow(1);
        Assert.False(first.allclose(second), "the tasks' parts differ");
    }

    [Fact]
    public void TSV_M_of_task_matrices_in_orthogonal_subspaces_is_task_arithmetic_at_the_same_scale()
    {
        // Three rank-3 matrices [12, 9] whose column spaces and row spaces are mutually orthogonal: each task's share
        // of the rank (⌊9 / 3⌋ = 3) holds all of it, and the stacked singular vectors are already orthonormal.
        var g = new Generator(4);
        var (u, _, _) = linalg.svd(randn(12, 9, generator: g), fullMatrices: false);
        var (v, _, _) = linalg.svd(randn(9, 9, generator: g), fullMatrices: false);
        var taus = stack(Enumerable.Range(0, 3).Select(k =>
            u.narrow(1, 3 * k, 3).matmul(diag(rand(3, generator: g).Plus(0.5))).matmul(v.narrow(1, 3 * k, 3).t())).ToArray());
        var tsv = SpectralMerge.Tsv("w", taus);
        var sum = taus.sum(dim: 0);   // named: a bare 0 would bind to sum(ScalarType)
        float difference = (tsv - sum).abs().max().item<float>();
        Assert.True(difference <= 1e-5, $"TSV-M equals Σk τk: largest difference {difference:E2}");
    }

    [Fact]
    public void Iso_C_of_one_task_is_that_task_s_update_with_a_flat_spectrum()
    {
        var g = new Generator(6);
        var tau = randn(10, 7, generator: g);
        var iso = SpectralMerge.IsoC("w", tau.unsqueeze(0));
        var (u, s, vh) = linalg.svd(tau, fullMatrices: false);
        var flat = u.matmul(diag(ones_like(s).Times(s.mean().item<float>()))).matmul(vh);
        Assert.True((iso - flat).abs().max().item<float>() <= 1e-5);
        var singular = linalg.svdvals(iso);
        Assert.True((singular - s.mean()).abs().max().item<float>() <= 1e-5, "every singular value is the mean");
    }

    [Fact]
    public void Tensors_that_are_not_matrices_are_averaged_and_text_projection_is_averaged_by_TSV_M_only()
    {
        var g = new Generator(8);
        var vector = randn(3, 5, generator: g);
        Assert.True((SpectralMerge.Tsv("b", vector) - vector.mean([0])).abs().max().item<float>() <= 1e-6);
        Assert.True((SpectralMerge.IsoC("b", vector) - vector.mean([0])).abs().max().item<float>() <= 1e-6);
        var projection = randn(3, 6, 4, generator: g);
        Assert.True((SpectralMerge.Tsv("text_projection", projection) - projection.mean([0])).abs().max().item<float>() <= 1e-6);
        Assert.True(SpectralMerge.IsMatrix(projection, "text_projection", excludeTextProjection: false));
    }
}
