using System.Text.Json;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Architectures.Bert;

/// <summary>BERT-family encoders against the PyTorch reference (tools/make_bert_fixture.py), and how they are recognised.</summary>
public sealed class BertModelTests
{
    public static TheoryData<string> Variants => [.. BertReferenceChecks.Variants];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Features_and_logits_of_a_padded_batch_match_pytorch_within_1e_5(string variant)
    {
        double difference = BertReferenceChecks.Forward(Path.Combine(BertTiny.Root, variant), CPU);
        Assert.True(difference <= 1e-5, $"{variant}: relative difference {difference}");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void A_text_s_features_do_not_depend_on_the_padding_it_is_batched_with(string variant)
    {
        using var folder = BertTiny.Open(variant);
        int pad = ((BertSpec)folder.Spec!).Config.PadTokenId;
        int[] shortText = [5, 9, 17], longText = [6, 7, 8, 9, 10, 11, 12, 13];
        var difference = ModelParameters.Run(folder, CPU, (model, θ) =>
            ReferenceDifference.Relative(model.Features(θ, TokenBatch.Pack([shortText], pad))[0], model.Features(θ, TokenBatch.Pack([longText, shortText], pad))[1]));
        // Within the reference tolerance: the batch's length changes the kernels' float32 summation order (1.07e-6 on an AMD EPYC with AVX2).
        Assert.True(difference <= 1e-5, $"{variant}: padding changed the features by {difference:E2}");
    }

    [Fact]
    public void Each_layout_is_recognised_with_its_pooling_classifier_and_head()
    {
        using (var bert = BertTiny.Open("bert_classifier"))
        {
            var spec = Assert.IsType<BertSpec>(bert.Spec);
            Assert.Equal(BertArchitecture.HuggingFaceBert, spec.Layout);
            Assert.Equal(BertPooling.Pooler, spec.Pooling);
            Assert.Equal(("classifier.weight", "classifier.bias"), spec.Classifier);
            Assert.Equal(0, spec.BlockOf("bert.encoder.layer.0.attention.self.query.weight"));
            Assert.Equal(1, spec.BlockOf("bert.encoder.layer.1.output.LayerNorm.bias"));
            Assert.Null(spec.BlockOf("bert.pooler.dense.weight"));
            Assert.Equal("BertForSequenceClassification", spec.TransformersClass(bert));
            Assert.Equal(12, spec.ObservedLinearLayers([.. bert.Weights.Tensors.Select(t => t.Name)]).Count);
        }
        using (var plain = BertTiny.Open("bert_plain"))
        {
            var spec = Assert.IsType<BertSpec>(plain.Spec);
            Assert.Equal(BertPooling.Mean, spec.Pooling);
            Assert.Equal(("", "BertModel"), (spec.NamePrefix, spec.TransformersClass(plain)));
            Assert.Equal(("classifier.weight", "classifier.bias"), spec.Classifier);   // where its tasks carry their heads
        }
        using var roberta = BertTiny.Open("roberta_classifier");
        var r = Assert.IsType<BertSpec>(roberta.Spec);
        Assert.Equal(BertArchitecture.HuggingFaceRoberta, r.Layout);
        Assert.Equal(BertPooling.FirstToken, r.Pooling);
        Assert.Equal(20, r.MaxSequenceLength);
        Assert.Equal(["classifier.out_proj.weight", "classifier.out_proj.bias", "classifier.dense.weight", "classifier.dense.bias"], r.ClassifierTensors);
        var head = AdaMerging.Domain.Heads.CheckpointHeads.Info(r, roberta.Weights)!;
        Assert.Equal((3, 32), (head.Classes, head.FeatureSize));
    }

    [Fact]
    public void Without_config_json_the_shapes_give_the_widths_and_a_config_that_contradicts_the_weights_is_refused_naming_the_tensors()
    {
        using (var inferred = BertTiny.Open("bert_plain", withConfig: false))
        {
            var config = Assert.IsType<BertSpec>(inferred.Spec).Config;
            Assert.Equal((32, 2, 64, 20, 2), (config.HiddenSize, config.NumHiddenLayers, config.IntermediateSize, config.MaxPositionEmbeddings, config.TypeVocabSize));
            Assert.True(inferred.Spec!.ConfigInferred);
        }
        using var dir = new TempDirectory();
        var config2 = JsonSerializer.Deserialize<Dictionary<string, object>>(File.ReadAllText(BertTiny.File("bert_plain", "config.json")))!;
        config2["intermediate_size"] = 48;
        config2["num_hidden_layers"] = 1;
        var path = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(path, JsonSerializer.Serialize(config2));
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = BertTiny.File("bert_plain", "model.safetensors"),
            ["config.json"] = path,
        }));
        Assert.Contains("'encoder.layer.0.intermediate.dense.weight' is [64, 32] where [48, 32] is expected", e.Message, StringComparison.Ordinal);
        Assert.Contains("more than num_hidden_layers 1 layers", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_registry_lists_the_bert_family_with_its_benchmark_shapes()
    {
        var bert = Assert.Single(ModelArchitectures.All.OfType<BertArchitecture>());
        Assert.Same(bert, ModelArchitectures.OfLayout(BertArchitecture.HuggingFaceRoberta));
        Assert.Same(bert, RandomProblems.Of("minilm-l6"));
        Assert.Contains("384", bert.Describe("minilm-l6"), StringComparison.Ordinal);
    }
}
