using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// The CLIP forward passes on a device against what real PyTorch computed for the committed fixtures
/// (tools/make_clip_fixture.py, tools/make_text_fixture.py): the vision tower through the registry's path (folder,
/// recognised model, runnable model) with a head, and the text tower with the service's tokenizer.
/// </summary>
public static class ClipReferenceChecks
{
    private static readonly string[] TextFiles = ["model.safetensors", "config.json", "vocab.json", "merges.txt"];

    public static IEnumerable<(string Name, double Difference)> Run(string fixtures, Device device)
    {
        yield return ("vision tower and head against PyTorch", Vision(Path.Combine(fixtures, "clip_tiny"), device));
        yield return ("text tower against PyTorch", Text(Path.Combine(fixtures, "clip_text"), device));
    }

    /// <summary>Image features and head logits of the tiny CLIP against PyTorch's, relative to the largest reference value.</summary>
    private static double Vision(string dir, Device device)
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
            using var head = ClassificationHead.Load(Path.Combine(dir, "head.safetensors"), ScalarType.Float32, device);
            var features = model.Features(θ, io.Read("pixel_values").to(device));
            var logits = head.Logits(features);
            return Math.Max(ReferenceDifference.Relative(io.Read("features"), features), ReferenceDifference.Relative(io.Read("logits"), logits));
        });
    }

    /// <summary>Text embeddings of the reference's texts (tokenised by the service's tokenizer) against PyTorch's.</summary>
    private static double Text(string dir, Device device)
    {
        using var scope = NewDisposeScope();
        using var folder = ModelFolder.Open(TextFiles.ToDictionary(f => f, f => Path.Combine(dir, f)));
        using var view = folder.View();
        var config = ClipTextLayout.Infer(view, folder.ConfigJson);
        var θ = ModelParameters.Load(view, ScalarType.Float32, device, n => !n.EndsWith("position_ids", StringComparison.Ordinal));
        try
        {
            var tokenizer = ClipTokenizer.FromFiles(folder.SideFiles) ?? throw new InvalidOperationException($"{dir} has no tokenizer files");
            using var reference = SafetensorsFile.Open(Path.Combine(dir, "reference.safetensors"));
            var texts = ReferenceTexts(Path.Combine(dir, "reference.json")).Select(t => tokenizer.Encode(t, config.Context)).ToList();
            using var _ = no_grad();
            var actual = new ClipTextEncoder(config).Forward(θ, texts, tokenizer.EndId);
            return ReferenceDifference.Relative(reference.Read("text_embeddings"), actual);
        }
        finally
        {
            ModelParameters.Dispose(θ);
        }
    }

    /// <summary>The texts the reference embedded: those within the 77-token context.</summary>
    private static List<string> ReferenceTexts(string path)
    {
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("texts").EnumerateArray()
            .Where(t => t.GetProperty("ids").ValueKind != System.Text.Json.JsonValueKind.Null)
            .Select(t => t.GetProperty("text").GetString()!).ToList();
    }
}
