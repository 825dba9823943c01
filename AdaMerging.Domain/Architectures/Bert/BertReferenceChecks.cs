using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>
/// The BERT-family forward passes on a device against what PyTorch computed for the committed fixtures
/// (tools/make_bert_fixture.py): BertForSequenceClassification (pooler and classifier), a BertModel without a pooler
/// (mean pooling) and RobertaForSequenceClassification (offset positions, the two-layer head), padded batches all,
/// through the registry's path (folder, recognised model, runnable model, the checkpoint's head).
/// </summary>
public static class BertReferenceChecks
{
    public static readonly string[] Variants = ["bert_classifier", "bert_plain", "roberta_classifier"];

    public static IEnumerable<(string Name, double Difference)> Run(string fixtures, Device device)
    {
        foreach (var variant in Variants)
            yield return ($"BERT family ({variant}) against PyTorch", Forward(Path.Combine(fixtures, "bert_tiny", variant), device));
    }

    /// <summary>Features and, with a classifier, logits against PyTorch's, relative to the largest reference value.</summary>
    public static double Forward(string dir, Device device)
    {
        using var scope = NewDisposeScope();
        using var folder = ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = Path.Combine(dir, "model.safetensors"),
            ["config.json"] = Path.Combine(dir, "config.json"),
        });
        using var io = SafetensorsFile.Open(Path.Combine(dir, "io.safetensors"));
        return ModelParameters.Run(folder, device, (model, θ) =>
        {
            var features = model.Features(θ, stack([io.Read("input_ids"), io.Read("attention_mask")], 1).to(device));
            double worst = ReferenceDifference.Relative(io.Read("features"), features);
            if (io.Find("logits") is null) return worst;
            using var head = Heads.CheckpointHeads.Load(folder.Spec, folder.Weights, ScalarType.Float32, device);
            return head is null ? double.NaN : Math.Max(worst, ReferenceDifference.Relative(io.Read("logits"), head.Logits(features)));
        });
    }
}
