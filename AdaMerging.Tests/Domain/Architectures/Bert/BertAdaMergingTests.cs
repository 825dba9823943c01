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
        TextModelGradients.AssertEqualsAutograd(folder, new BertEncoder(spec.Config, spec.Names, spec.Pooling),
            (i, j) => 5 + (7 * i + 3 * j) % (spec.Config.VocabSize - 5), spec.Config.PadTokenId, checkpointed);
    }
}
