using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Architectures.ResNet;

/// <summary>AdaMerging's λ gradient through a ResNet, batch norms' running statistics merged with their weight's coefficient.</summary>
public sealed class ResNetAdaMergingTests
{
    [Fact]
    public void The_lambda_gradient_equals_autograd_through_ordinary_leaf_weights_with_running_statistics_sharing_their_weight_s_row()
    {
        using var folder = ResNetTiny.OpenTorchVision();
        var spec = Assert.IsType<ResNetSpec>(folder.Spec);
        var theta0 = ModelParameters.Load(folder.Weights, ScalarType.Float64, CPU, spec.ReadsTensor);
        var g = new Generator(3);
        var tasks = Enumerable.Range(0, 2).Select(_ => theta0.ToDictionary(kv => kv.Key,
            kv => kv.Value.Plus(randn(kv.Value.shape, generator: g, dtype: ScalarType.Float64).Times(0.05).abs()).detach())).ToList();
        using var vectors = TaskVectors.Load(new InMemoryTensorSource(theta0), [.. tasks.Select(t => (ITensorSource)new InMemoryTensorSource(t))], [], ScalarType.Float64, CPU);
        var model = new ResNetModel(spec.Config, spec.Names);
        var heads = Enumerable.Range(0, 2).Select(_ => new ClassificationHead(randn([4, spec.FeatureSize], generator: g, dtype: ScalarType.Float64), null, false)).ToList();
        var adaptation = heads.Select((h, k) => new AdaMergingTask($"t{k}", h, new TensorImageRows(randn([6, 3, 20, 20], generator: g, dtype: ScalarType.Float64)))).ToList();
        var layers = LayerMap.Create(vectors.Names, Granularity.Layer, LayerUnit.Tensor, spec.BlockOf, spec.SharesCoefficientWith);
        Assert.Equal(vectors.Names.Count(n => !n.EndsWith("running_mean", StringComparison.Ordinal) && !n.EndsWith("running_var", StringComparison.Ordinal)), layers.Rows);
        Assert.Equal(layers.RowOf("layer1.0.bn1.weight"), layers.RowOf("layer1.0.bn1.running_var"));
        using var run = new AdaMergingRun(model, new Dictionary<string, Tensor>(), vectors, layers, adaptation, new AdaMergingSettings { Steps = 1, BatchSize = 3 });
        List<long[]> batches = [[0, 1, 2], [3, 4, 5]];
        var (_, fromRun) = run.ObjectiveAndGradient(ScalarMath.Filled([layers.Rows, 2], 0.3, ScalarType.Float64, CPU), batches);

        var θ = LambdaGradients.AssertEqualsAutograd(model, vectors, layers, adaptation, batches, fromRun);
        Assert.Contains(vectors.Names, p => p.EndsWith("running_var", StringComparison.Ordinal) && θ[p].grad!.abs().sum().item<double>() > 0);
        heads.ForEach(h => h.Dispose());
        adaptation.ForEach(t => t.Adaptation.Dispose());
    }

    [Theory]
    [InlineData(8, 8, 1)]
    [InlineData(3, 12, 2)]
    [InlineData(12, 4, 1)]
    public void Narrow_convolutions_match_libtorch_s_forward_and_give_the_same_gradient_on_every_call(long input, long output, long stride)
    {
        // libtorch 2.10's own CPU convolution gives a different (wrong) input gradient on each call at these widths.
        var g = new Generator(4);
        var w = randn([output, input, 3, 3], generator: g).Times(0.1).requires_grad_(true);
        var x0 = randn([4, input, 9, 9], generator: g);
        using (no_grad())
        {
            var expected = nn.functional.conv2d(x0, w, strides: [stride, stride], padding: [1, 1]);
            var actual = ResNetModel.Convolution(x0, w, stride, 1);
            Assert.True((expected - actual).abs().max().item<float>() <= 1e-5f * expected.abs().max().item<float>());
        }
        Tensor? first = null;
        for (int call = 0; call < 20; call++)
        {
            var x = x0.detach().requires_grad_(true);
            ResNetModel.Convolution(x, w, stride, 1).square().sum().backward();
            if (first is null) first = x.grad!.clone();
            else Assert.True(first.equal(x.grad!).all().item<bool>(), $"call {call}: another input gradient");
        }
    }
}
