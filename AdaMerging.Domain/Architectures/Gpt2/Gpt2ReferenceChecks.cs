using AdaMerging.Domain.Architectures.Bert;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>
/// GPT-2's forward pass on a device against what PyTorch computed for the committed fixtures
/// (tools/make_gpt2_fixture.py): GPT2ForSequenceClassification (the score on the last token that is not padding, with
/// the old causal-mask buffers) and GPT2Model, padded batches both, through the registry's path.
/// </summary>
public static class Gpt2ReferenceChecks
{
    public static readonly string[] Variants = ["gpt2_classifier", "gpt2_plain"];

    public static IEnumerable<(string Name, double Difference)> Run(string fixtures, Device device)
    {
        foreach (var variant in Variants)
            yield return ($"GPT-2 ({variant}) against PyTorch", BertReferenceChecks.Forward(Path.Combine(fixtures, "gpt2_tiny", variant), device));
    }
}
