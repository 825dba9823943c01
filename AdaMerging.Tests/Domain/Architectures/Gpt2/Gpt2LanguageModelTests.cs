using AdaMerging.Domain.Models;
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
        using var model = spec.CreateLanguageModel(folder.Weights);
        using var head = new LanguageModelHead(spec.TokenScores(folder.Weights)!);
        var (layers, gradient) = TextModelGradients.AssertEqualsAutograd(folder, model, (i, j) => (7 * i + 3 * j) % 50, 0, checkpointed: true, head);
        Assert.True(gradient[layers.RowNames.ToList().IndexOf("transformer.wte.weight")].abs().sum().item<double>() > 0, "the tied output's row has a gradient");
    }
}
