using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The text families' λ-gradient check: a fixture's checkpoint in float64, two perturbed tasks with random 4-class
/// heads (or a language model's output), six padded texts of 3 to 13 tokens, one layer-wise step's gradient against
/// autograd (<see cref="LambdaGradients"/>).
/// </summary>
public static class TextModelGradients
{
    /// <param name="token">The i-th text's j-th token id (within the vocabulary).</param>
    /// <param name="head">Both tasks' head when not random classifiers: a language model's output (<see cref="LanguageModelHead"/>).</param>
    /// <returns>The rows and the run's gradient, for what a caller checks beyond autograd's agreement.</returns>
    public static (LayerMap Layers, Tensor Gradient) AssertEqualsAutograd(ModelFolder folder, IFeatureStages model, Func<int, int, int> token, int paddingId, bool checkpointed,
        ITaskHead? head = null)
    {
        var spec = folder.Spec!;
        var theta0 = ModelParameters.Load(folder.Weights, ScalarType.Float64, CPU, spec.ReadsTensor);
        var g = new Generator(5);
        var tasks = Enumerable.Range(0, 2).Select(_ => theta0.ToDictionary(kv => kv.Key,
            kv => kv.Value.Plus(randn(kv.Value.shape, generator: g, dtype: ScalarType.Float64).Times(0.05)).detach())).ToList();
        using var vectors = TaskVectors.Load(new InMemoryTensorSource(theta0), [.. tasks.Select(t => (ITensorSource)new InMemoryTensorSource(t))], [], ScalarType.Float64, CPU);
        var heads = Enumerable.Range(0, 2).Select(_ => head ?? new ClassificationHead(randn([4, spec.FeatureSize], generator: g, dtype: ScalarType.Float64), null, false)).ToList();
        var texts = Enumerable.Range(0, 6).Select(i => Enumerable.Range(0, 3 + 2 * i).Select(j => token(i, j)).ToArray()).ToList();
        var adaptation = heads.Select((h, k) => new AdaMergingTask($"t{k}", h, new TensorImageRows(TokenBatch.Pack(texts, paddingId)))).ToList();
        var layers = LayerMap.Create(vectors.Names, Granularity.Layer, LayerUnit.Tensor, spec.BlockOf, spec.SharesCoefficientWith);
        using var run = new AdaMergingRun(model, new Dictionary<string, Tensor>(), vectors, layers, adaptation,
            new AdaMergingSettings { Steps = 1, BatchSize = 3, Checkpointing = checkpointed });
        List<long[]> batches = [[0, 2, 5], [1, 3, 4]];
        var (_, fromRun) = run.ObjectiveAndGradient(ScalarMath.Filled([layers.Rows, 2], 0.3, ScalarType.Float64, CPU), batches);

        LambdaGradients.AssertEqualsAutograd(model, vectors, layers, adaptation, batches, fromRun);
        Assert.True(fromRun.abs().sum().item<double>() > 0);
        heads.ForEach(h => h.Dispose());
        adaptation.ForEach(t => t.Adaptation.Dispose());
        return (layers, fromRun.detach().clone());
    }
}
