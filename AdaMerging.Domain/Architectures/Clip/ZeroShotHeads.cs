using AdaMerging.Domain.Jobs;
using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using F = TorchSharp.torch.nn.functional;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// Zero-shot classification heads from class names, as the official AdaMerging code builds them (docs/algorithm.md,
/// "Zero-shot heads"): per class, every template filled with the name is encoded by the text tower and L2-normalised,
/// the embeddings averaged, normalised again and scaled by exp(logit_scale); the head normalises image features.
/// </summary>
public static class ZeroShotHeads
{
    private const int TextsPerBatch = 256;

    /// <summary>Builds the head and writes it to <paramref name="path"/>; throws <see cref="ZeroShotHeadException"/> naming every problem.</summary>
    public static HeadInfo Build(ModelFolder folder, ZeroShotHeadSpec spec, string path, UploadLimits limits, Device device, CancellationToken ct = default)
    {
        var (tokens, config, tokenizer) = Prepare(folder, spec, limits);
        using var view = folder.View();
        var parameters = ModelParameters.Load(view, ScalarType.Float32, device,
            n => n is ClipTextLayout.Projection or ClipTextLayout.LogitScale || (n.StartsWith(ClipTextLayout.Prefix, StringComparison.Ordinal) && !n.EndsWith("position_ids", StringComparison.Ordinal)));
        try
        {
            using var _ = no_grad();
            using var scope = NewDisposeScope();
            var encoder = new ClipTextEncoder(config);
            var embeddings = new List<Tensor>();
            for (int start = 0; start < tokens.Count; start += TextsPerBatch)
            {
                ct.ThrowIfCancellationRequested();
                embeddings.Add(F.normalize(encoder.Forward(parameters, tokens.Skip(start).Take(TextsPerBatch).ToList(), tokenizer.EndId), p: 2, dim: -1));
            }
            var perClass = cat(embeddings, 0).view(spec.Classes.Count, spec.Templates.Count, config.ProjectionDim).mean([1]);
            var weight = F.normalize(perClass, p: 2, dim: -1) * parameters[ClipTextLayout.LogitScale].exp();
            SafetensorsWriter.Save(path, new Dictionary<string, Tensor> { ["weight"] = weight.cpu().contiguous() },
                new Dictionary<string, string> { ["normalize"] = "true", ["classes"] = JsonSerializer.Serialize(spec.Classes) });
            return new HeadInfo(spec.Classes.Count, config.ProjectionDim, HasBias: false, NormalizeFeatures: true, spec.Classes);
        }
        finally
        {
            ModelParameters.Dispose(parameters);
        }
    }

    /// <summary>Every problem of spec, checkpoint and texts at once; the token ids class by class, template by template, when there is none.</summary>
    private static (List<IReadOnlyList<int>> Tokens, ClipTextConfig Config, ClipTokenizer Tokenizer) Prepare(ModelFolder folder, ZeroShotHeadSpec spec, UploadLimits limits)
    {
        var problems = spec.Problems(limits).ToList();
        ClipTextConfig? config = null;
        using (var view = folder.View())
        {
            var missing = ClipTextLayout.Missing(view);
            if (missing.Count > 0) problems.Add(ZeroShotHeadException.OfCheckpoint($"the checkpoint has no CLIP text tower (it lacks {string.Join(", ", missing)})"));
            else
            {
                try { config = ClipTextLayout.Infer(view, folder.ConfigJson); }
                catch (CheckpointFormatException e) { problems.Add(ZeroShotHeadException.OfCheckpoint(e.Message)); }
            }
        }
        ClipTokenizer? tokenizer = null;
        try
        {
            tokenizer = ClipTokenizer.FromFiles(folder.SideFiles);
            if (tokenizer is null)
                problems.Add(ZeroShotHeadException.OfCheckpoint(
                    $"the checkpoint has no tokenizer files ({ClipTokenizer.VocabularyFile} and {ClipTokenizer.MergesFile}, or {ClipTokenizer.OpenClipFile})"));
        }
        catch (CheckpointFormatException e)
        {
            problems.Add(ZeroShotHeadException.OfCheckpoint(e.Message));
        }
        if (config is not null && tokenizer is not null && tokenizer.VocabularySize > config.VocabularySize)
            problems.Add(ZeroShotHeadException.OfCheckpoint($"the tokenizer has {tokenizer.VocabularySize} tokens, the text tower's embedding only {config.VocabularySize}"));
        var tokens = new List<IReadOnlyList<int>>();
        if (tokenizer is not null && problems.Count == 0)
            foreach (var text in spec.Classes.SelectMany(spec.Texts))
            {
                try { tokens.Add(tokenizer.Encode(text, config!.Context)); }
                catch (TextTooLongException e) { problems.Add(new(ZeroShotHeadSpec.TemplatesAt, RequestProblemCode.Invalid, e.Message)); }
            }
        if (problems.Count > 0) throw new ZeroShotHeadException(problems.Distinct().ToList());
        return (tokens, config!, tokenizer!);
    }
}
