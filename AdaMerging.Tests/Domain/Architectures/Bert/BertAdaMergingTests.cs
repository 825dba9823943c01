using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Architectures.Bert;

/// <summary>AdaMerging's λ gradient through BERT-family encoders, padded token batches as the input.</summary>
public sealed class BertAdaMergingTests
{
    [Theory]
    [InlineData("bert_classifier", false)]
    [InlineData("roberta_classifier", true)]
    [InlineData("bert_plain", true)]
    public void The_lambda_gradient_equals_autograd_through_ordinary_leaf_weights_with_and_without_checkpointing(string variant, bool checkpointed)
    {
        using var folder = BertTiny.Open(variant);
        var spec = Assert.IsType<BertSpec>(folder.Spec);
        var theta0 = ModelParameters.Load(folder.Weights, ScalarType.Float64, CPU, spec.ReadsTensor);
        var g = new Generator(5);
        var tasks = Enumerable.Range(0, 2).Select(_ => theta0.ToDictionary(kv => kv.Key,
            kv => kv.Value.Plus(randn(kv.Value.shape, generator: g, dtype: ScalarType.Float64).Times(0.05)).detach())).ToList();
        using var vectors = TaskVectors.Load(new InMemoryTensorSource(theta0), [.. tasks.Select(t => (ITensorSource)new InMemoryTensorSource(t))], [], ScalarType.Float64, CPU);
        var model = new BertEncoder(spec.Config, spec.Names, spec.Pooling);
        var heads = Enumerable.Range(0, 2).Select(_ => new ClassificationHead(randn([4, spec.FeatureSize], generator: g, dtype: ScalarType.Float64), null, false)).ToList();
        var texts = Enumerable.Range(0, 6).Select(i => Enumerable.Range(0, 3 + 2 * i).Select(j => 5 + (7 * i + 3 * j) % (spec.Config.VocabSize - 5)).ToArray()).ToList();
        var adaptation = heads.Select((h, k) => new AdaMergingTask($"t{k}", h, new TensorImageRows(TokenBatch.Pack(texts, spec.Config.PadTokenId)))).ToList();
        var layers = LayerMap.Create(vectors.Names, Granularity.Layer, LayerUnit.Tensor, spec.BlockOf, spec.SharesCoefficientWith);
        using var run = new AdaMergingRun(model, new Dictionary<string, Tensor>(), vectors, layers, adaptation,
            new AdaMergingSettings { Steps = 1, BatchSize = 3, Checkpointing = checkpointed });
        List<long[]> batches = [[0, 2, 5], [1, 3, 4]];
        var (_, fromRun) = run.ObjectiveAndGradient(ScalarMath.Filled([layers.Rows, 2], 0.3, ScalarType.Float64, CPU), batches);

        LambdaGradients.AssertEqualsAutograd(model, vectors, layers, adaptation, batches, fromRun);
        Assert.True(fromRun.abs().sum().item<double>() > 0);
        heads.ForEach(h => h.Dispose());
        adaptation.ForEach(t => t.Adaptation.Dispose());
    }
}
