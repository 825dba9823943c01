using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// RegMean against the project's PyTorch reference written from FusionBench's regmean (tools/make_regmean_fixture.py:
/// the tiny CLIP, K = 3, 40 images a task in batches of 32, α = 0.9; the tiny ResNet's convolutions as linear maps of
/// their patches), and its identity with weight averaging (docs/algorithm.md, "RegMean").
/// </summary>
public sealed class RegMeanTests
{
    private static string Fixture(string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "regmean", file);

    private static TaskVectors Vectors() => TaskVectors.Load(SafetensorsFile.Open(ClipTiny.File("model.safetensors")),
        Enumerable.Range(0, 3).Select(k => (ITensorSource)SafetensorsFile.Open(Fixture($"task{k}.safetensors"))).ToList(), [], ScalarType.Float32, CPU);

    [Fact]
    public void Every_merged_tensor_matches_the_PyTorch_reference_to_1e_5()
    {
        using var vectors = Vectors();
        using var images = SafetensorsFile.Open(Fixture("images.safetensors"));
        using var regmean = new RegMean(vectors, 0.9);
        using var model = new ClipModel(ClipTiny.Config);
        for (int k = 0; k < 3; k++)
        {
            using var pixels = images.Read($"task{k}");
            regmean.AddTask(k, model, new Dictionary<string, Tensor>(), new TensorImageRows(pixels), 40, 32, CPU, CancellationToken.None);
        }
        var merged = regmean.Merged();
        using var expected = SafetensorsFile.Open(Fixture("regmean.safetensors"));
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
        int solved = 0;
        foreach (var (name, value) in merged)
        {
            using var reference = expected.Read(name);
            double difference = (value - reference).abs().max().item<float>();
            Assert.True(difference <= 1e-5, $"{name}: largest difference {difference:E2}");
            var mean = vectors.Combine((_, _) => tensor(1f / 3));
            if (name.EndsWith("proj.weight", StringComparison.Ordinal) || name.EndsWith("fc1.weight", StringComparison.Ordinal))
                if ((value - mean[name]).abs().max().item<float>() > 1e-4) solved++;
            foreach (var t in mean.Values) t.Dispose();
        }
        Assert.Equal(2 * 5, solved);   // q, k, v, out, fc1 of both blocks differ from the plain mean (fc2 too, not counted)
        foreach (var t in merged.Values) t.Dispose();
    }

    [Fact]
    public void Every_ResNet_convolution_is_solved_from_its_patches_and_every_tensor_matches_PyTorch_in_float64_to_1e_6_relative()
    {
        using var folder = ResNetTiny.OpenTorchVision();
        using var vectors = TaskVectors.Load(folder.Weights,
            Enumerable.Range(0, 3).Select(k => (ITensorSource)SafetensorsFile.Open(Fixture($"resnet_task{k}.safetensors"))).ToList(), [], ScalarType.Float64, CPU);
        var convolutions = folder.Spec!.ObservedLinearLayers(vectors.Names);
        Assert.Equal(8, convolutions.Count);   // the stem's, two in layer1.0, three in layer2.0 (with the shortcut), two in layer2.1
        using var images = SafetensorsFile.Open(Fixture("resnet_images.safetensors"));
        using var regmean = new RegMean(vectors, 0.9);
        using var model = folder.Spec.CreateModel(folder.Weights);
        for (int k = 0; k < 3; k++)
        {
            using var pixels = images.Read($"task{k}");
            regmean.AddTask(k, model, new Dictionary<string, Tensor>(), new TensorImageRows(pixels), 40, 32, CPU, CancellationToken.None);
        }
        var merged = regmean.Merged();
        var mean = vectors.Combine((_, _) => tensor(1.0 / 3, ScalarType.Float64));
        using var expected = SafetensorsFile.Open(Fixture("resnet_regmean.safetensors"));
        Assert.Equal(expected.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, value) in merged)
        {
            using var reference = expected.Read(name);
            double difference = ReferenceDifference.Relative(reference.to_type(ScalarType.Float64), value);
            Assert.True(difference <= 1e-6, $"{name}: relative difference {difference:E2}");   // the reference is stored in float32
            bool solved = ReferenceDifference.Relative(mean[name], value) > 1e-3;
            Assert.True(solved == convolutions.Contains(name[..name.LastIndexOf('.')]), $"{name}: solved {solved}");
        }
        foreach (var t in merged.Values.Concat(mean.Values)) t.Dispose();
    }

    [Fact]
    public void With_identity_Gram_matrices_RegMean_is_weight_averaging()
    {
        using var vectors = Vectors();
        using var regmean = new RegMean(vectors, 0.9);
        var linear = vectors.Names.Where(n => n.EndsWith("_proj.weight", StringComparison.Ordinal) && n.Contains("self_attn", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(linear);
        for (int k = 0; k < 3; k++)
        {
            using var task = SafetensorsFile.Open(Fixture($"task{k}.safetensors"));
            var weights = linear.ToDictionary(n => n, n => task.Read(n));
            var grams = linear.ToDictionary(n => n[..^".weight".Length], n => eye(weights[n].shape[1]));
            regmean.AddGrams(grams, weights);
            foreach (var t in weights.Values.Concat(grams.Values)) t.Dispose();
        }
        var merged = regmean.Merged();
        var mean = vectors.Combine((_, _) => tensor(1f / 3));
        foreach (var name in vectors.Names)
            Assert.True((merged[name] - mean[name]).abs().max().item<float>() <= 1e-5, $"{name} is not the mean");
        foreach (var t in merged.Values.Concat(mean.Values)) t.Dispose();
    }

    [Fact]
    public void A_layer_stored_input_by_output_as_GPT2_s_Conv1D_gets_the_transposed_solution_of_the_same_layer_stored_as_nn_Linear()
    {
        var g = new Generator(7);
        var grams = Enumerable.Range(0, 3).Select(_ => randn([40, 5], generator: g, dtype: ScalarType.Float64) is var x ? x.t().matmul(x) : null!).ToList();
        var linear = Enumerable.Range(0, 3).Select(_ => randn([6, 5], generator: g, dtype: ScalarType.Float64)).ToList();
        var θ0 = randn([6, 5], generator: g, dtype: ScalarType.Float64);
        Tensor Solve(Func<Tensor, Tensor> stored, bool inputByOutput)
        {
            using var vectors = TaskVectors.Load(new InMemoryTensorSource(new Dictionary<string, Tensor> { ["layer.weight"] = stored(θ0) }),
                [.. linear.Select(w => (ITensorSource)new InMemoryTensorSource(new Dictionary<string, Tensor> { ["layer.weight"] = stored(w) }))], [], ScalarType.Float64, CPU);
            using var regmean = new RegMean(vectors, 0.9, _ => inputByOutput);
            for (int k = 0; k < 3; k++) regmean.AddGrams(new Dictionary<string, Tensor> { ["layer"] = grams[k] }, new Dictionary<string, Tensor> { ["layer.weight"] = stored(linear[k]) });
            return regmean.Merged()["layer.weight"];
        }
        var asLinear = Solve(w => w, inputByOutput: false);
        var asConv1D = Solve(w => w.t().contiguous(), inputByOutput: true);
        Assert.Equal([5L, 6L], asConv1D.shape);
        Assert.True(ReferenceDifference.Relative(asLinear.t(), asConv1D) <= 1e-12, "the same solution, stored [in, out]");
        Assert.True(ReferenceDifference.Relative(linear[0].Plus(linear[1]).Plus(linear[2]).DividedBy(3), asLinear) > 1e-3, "solved, not averaged");
    }
}
