using System.Text.Json;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Gpt2;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Architectures.Gpt2;

/// <summary>GPT-2 decoders against the PyTorch reference (tools/make_gpt2_fixture.py), how they are recognised, and AdaMerging's λ gradient through them.</summary>
public sealed class Gpt2ModelTests
{
    public static TheoryData<string> Variants => [.. Gpt2ReferenceChecks.Variants];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Features_and_logits_of_a_padded_batch_match_pytorch_within_1e_5(string variant)
    {
        double difference = AdaMerging.Domain.Architectures.Bert.BertReferenceChecks.Forward(Path.Combine(Gpt2Tiny.Root, variant), CPU);
        Assert.True(difference <= 1e-5, $"{variant}: relative difference {difference}");
    }

    [Fact]
    public void A_text_s_features_do_not_depend_on_the_padding_it_is_batched_with_and_a_text_of_no_tokens_stays_finite()
    {
        using var folder = Gpt2Tiny.Open("gpt2_plain");
        int[] shortText = [5, 9, 17], longText = [6, 7, 8, 9, 10, 11, 12, 13];
        var (difference, finite) = ModelParameters.Run(folder, CPU, (model, θ) =>
        {
            var alone = model.Features(θ, TokenBatch.Pack([shortText], 0))[0];
            var batched = model.Features(θ, TokenBatch.Pack([longText, shortText, []], 0));
            return (ReferenceDifference.Relative(alone, batched[1]), batched.isfinite().all().item<bool>());
        });
        // Within the reference tolerance: the batch's length changes the kernels' float32 summation order (as for BERT).
        Assert.True(difference <= 1e-5, $"padding changed the features by {difference}");
        Assert.True(finite, "an empty text's features are finite");
    }

    [Fact]
    public void Both_layouts_are_recognised_with_the_score_as_head_conv1d_layers_and_the_old_buffers_carried_not_read()
    {
        using var folder = Gpt2Tiny.Open("gpt2_classifier");
        var spec = Assert.IsType<Gpt2Spec>(folder.Spec);
        Assert.Equal(Gpt2Architecture.HuggingFaceGpt2, spec.Layout);
        Assert.Equal(("score.weight", "score.bias"), spec.Classifier);
        var head = AdaMerging.Domain.Heads.CheckpointHeads.Info(spec, folder.Weights)!;
        Assert.Equal((3, 32, false), (head.Classes, head.FeatureSize, head.HasBias));
        Assert.Equal(0, spec.BlockOf("transformer.h.0.attn.c_attn.weight"));
        Assert.Equal(1, spec.BlockOf("transformer.h.1.mlp.c_proj.bias"));
        Assert.Null(spec.BlockOf("transformer.ln_f.weight"));
        Assert.False(spec.ReadsTensor("transformer.h.0.attn.bias"));
        Assert.False(spec.ReadsTensor("transformer.h.1.attn.masked_bias"));
        Assert.True(spec.ReadsTensor("transformer.h.0.attn.c_attn.bias"));
        Assert.True(spec.LinearWeightIsInputByOutput("transformer.h.0.attn.c_attn"));
        Assert.Equal(8, spec.ObservedLinearLayers([.. folder.Weights.Tensors.Select(t => t.Name)]).Count);
        Assert.Equal(("GPT2ForSequenceClassification", 24, 24), (spec.TransformersClass(folder), spec.MaxSequenceLength, spec.DefaultSequenceLength));
        using var plain = Gpt2Tiny.Open("gpt2_plain", withConfig: false);
        var inferred = Assert.IsType<Gpt2Spec>(plain.Spec);
        Assert.Equal(("", "GPT2Model", ("score.weight", "score.bias")), (inferred.NamePrefix, inferred.TransformersClass(plain), inferred.Classifier));
        Assert.Equal((32, 2, 128, 24), (inferred.Config.HiddenSize, inferred.Config.NumLayers, inferred.Config.InnerSize, inferred.Config.Positions));
        Assert.Same(ModelArchitectures.OfLayout(Gpt2Architecture.HuggingFaceGpt2), RandomProblems.Of("gpt2"));
    }

    [Fact]
    public void A_config_that_contradicts_the_weights_is_refused_naming_the_tensors()
    {
        using var dir = new TempDirectory();
        var config = JsonSerializer.Deserialize<Dictionary<string, object>>(System.IO.File.ReadAllText(Gpt2Tiny.File("gpt2_plain", "config.json")))!;
        config["n_inner"] = 96;
        config["n_layer"] = 1;
        var path = Path.Combine(dir.Path, "config.json");
        System.IO.File.WriteAllText(path, JsonSerializer.Serialize(config));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = Gpt2Tiny.File("gpt2_plain", "model.safetensors"),
            ["config.json"] = path,
        }));
        Assert.Contains("'h.0.mlp.c_fc.weight' is [32, 128] where [32, 96] is expected", e.Message, StringComparison.Ordinal);
        Assert.Contains("more than n_layer 1 blocks", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_lambda_gradient_equals_autograd_through_ordinary_leaf_weights_with_and_without_checkpointing(bool checkpointed)
    {
        using var folder = Gpt2Tiny.Open("gpt2_classifier");
        var spec = Assert.IsType<Gpt2Spec>(folder.Spec);
        TextModelGradients.AssertEqualsAutograd(folder, new Gpt2Decoder(spec.Config, spec.Names), (i, j) => (7 * i + 3 * j) % (spec.Config.VocabSize - 1), 0, checkpointed);
    }
}
