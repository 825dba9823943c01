using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Architectures.Gpt2;

/// <summary>
/// GPT-2 as a causal language model (docs/algorithm.md, "Language-model tasks"): its output is the token embeddings
/// (wte), its last stage every position's ln_f states — at each text's last token exactly the classifier's features,
/// which match PyTorch (Gpt2ModelTests) — and AdaMerging's λ gradient through the tied output equals autograd's.
/// </summary>
public sealed class Gpt2LanguageModelTests
{
    private static readonly int[][] Texts = [[5, 9, 17, 3], [6, 7], [8, 9, 10, 11, 12, 13]];

    [Fact]
    public void Every_position_s_states_end_in_the_classifier_s_features_and_the_output_is_wte()
    {
        using var folder = Gpt2Tiny.Open("gpt2_classifier");
        var spec = folder.Spec!;
        Assert.Equal("transformer.wte.weight", spec.TokenScores(folder.Weights));
        using var lm = spec.CreateLanguageModel(folder.Weights);
        var (classifier, θ) = ModelParameters.LoadRunnable(folder, ScalarType.Float32, CPU);
        using (classifier)
        using (no_grad())
        {
            var batch = TokenBatch.Pack(Texts, 0);
            var states = lm.Features(θ, batch);
            var last = classifier.Features(θ, batch);
            Assert.Equal([3L, 6L, spec.FeatureSize], states.shape);
            for (int r = 0; r < Texts.Length; r++)
                Assert.True(states[r, Texts[r].Length - 1].allclose(last[r], rtol: 0, atol: 0), $"text {r}: its last token's states are the classifier's features");
            ModelParameters.Dispose(θ);
        }
    }

    [Fact]
    public void The_lambda_gradient_through_the_tied_output_equals_autograd_s()
    {
        using var folder = Gpt2Tiny.Open("gpt2_classifier");
        var spec = folder.Spec!;
        var theta0 = ModelParameters.Load(folder.Weights, ScalarType.Float64, CPU, spec.ReadsTensor);
        var g = new Generator(7);
        var tasks = Enumerable.Range(0, 2).Select(_ => theta0.ToDictionary(kv => kv.Key,
            kv => kv.Value.Plus(randn(kv.Value.shape, generator: g, dtype: ScalarType.Float64).Times(0.05)).detach())).ToList();
        using var vectors = TaskVectors.Load(new InMemoryTensorSource(theta0), [.. tasks.Select(t => (ITensorSource)new InMemoryTensorSource(t))], [], ScalarType.Float64, CPU);
        using var model = spec.CreateLanguageModel(folder.Weights);
        using var head = new LanguageModelHead(spec.TokenScores(folder.Weights)!);
        var adaptation = Enumerable.Range(0, 2).Select(k => new AdaMergingTask($"t{k}", head, new TensorImageRows(TokenBatch.Pack(Texts, 0)))).ToList();
        var layers = LayerMap.Create(vectors.Names, Granularity.Layer, LayerUnit.Tensor, spec.BlockOf, spec.SharesCoefficientWith);
        using var run = new AdaMergingRun(model, new Dictionary<string, Tensor>(), vectors, layers, adaptation, new AdaMergingSettings { Steps = 1, BatchSize = 2, Checkpointing = true });
        List<long[]> batches = [[0, 2], [1, 2]];
        var (_, fromRun) = run.ObjectiveAndGradient(ScalarMath.Filled([layers.Rows, 2], 0.3, ScalarType.Float64, CPU), batches);

        LambdaGradients.AssertEqualsAutograd(model, vectors, layers, adaptation, batches, fromRun);
        Assert.True(fromRun[layers.RowNames.ToList().IndexOf("transformer.wte.weight")].abs().sum().item<double>() > 0, "the tied output's row has a gradient");
        adaptation.ForEach(t => t.Adaptation.Dispose());
    }
}
