using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Domain.Heads;

/// <summary>What a zero-shot head is made of: class names, and templates with a "{}" for the name (docs/algorithm.md, "Zero-shot heads").</summary>
public sealed record ZeroShotHeadSpec(IReadOnlyList<string> Classes, IReadOnlyList<string> Templates)
{
    /// <summary>Every problem with the class names and templates themselves (docs/algorithm.md, "Zero-shot heads"); empty when none.</summary>
    public IReadOnlyList<string> Problems(UploadLimits limits)
    {
        var problems = new List<string>();
        if (Classes.Count == 0) problems.Add("the class list is empty");
        if (Classes.Count > limits.MaxClasses) problems.Add($"{Classes.Count} classes are over the limit of {limits.MaxClasses}");
        var blank = Classes.Select((c, i) => (c, i)).Where(x => string.IsNullOrWhiteSpace(x.c)).Select(x => x.i).ToList();
        if (blank.Count > 0) problems.Add($"class names at {string.Join(", ", blank)} are blank");
        var repeated = Classes.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"'{g.Key}'").ToList();
        if (repeated.Count > 0) problems.Add($"class names {string.Join(", ", repeated)} are given more than once");
        if (Templates.Count == 0) problems.Add("no templates");
        foreach (var t in Templates.Where(t => !t.Contains(TemplateSets.Placeholder, StringComparison.Ordinal)))
            problems.Add($"the template '{t}' has no {TemplateSets.Placeholder} for the class name");
        return problems;
    }

    public IEnumerable<string> Texts(string className) => Templates.Select(t => t.Replace(TemplateSets.Placeholder, className, StringComparison.Ordinal));
}

/// <summary>A head that cannot be built from this checkpoint and spec, with every reason.</summary>
public sealed class ZeroShotHeadException(IReadOnlyList<string> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}

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
        using var view = folder.HuggingFaceView();
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
        using (var view = folder.HuggingFaceView())
        {
            var missing = ClipTextLayout.Missing(view);
            if (missing.Count > 0) problems.Add($"the checkpoint has no CLIP text tower (it lacks {string.Join(", ", missing)})");
            else
            {
                try { config = ClipTextLayout.Infer(view, folder.ConfigJson); }
                catch (CheckpointFormatException e) { problems.Add(e.Message); }
            }
        }
        ClipTokenizer? tokenizer = null;
        try
        {
            tokenizer = folder.Tokenizer();
            if (tokenizer is null)
                problems.Add($"the checkpoint has no tokenizer files ({ClipTokenizer.VocabularyFile} and {ClipTokenizer.MergesFile}, or {ClipTokenizer.OpenClipFile})");
        }
        catch (CheckpointFormatException e)
        {
            problems.Add(e.Message);
        }
        if (config is not null && tokenizer is not null && tokenizer.VocabularySize > config.VocabularySize)
            problems.Add($"the tokenizer has {tokenizer.VocabularySize} tokens, the text tower's embedding only {config.VocabularySize}");
        var tokens = new List<IReadOnlyList<int>>();
        if (tokenizer is not null && problems.Count == 0)
            foreach (var text in spec.Classes.SelectMany(spec.Texts))
            {
                try { tokens.Add(tokenizer.Encode(text, config!.Context)); }
                catch (TextTooLongException e) { problems.Add(e.Message); }
            }
        if (problems.Count > 0) throw new ZeroShotHeadException(problems.Distinct().ToList());
        return (tokens, config!, tokenizer!);
    }
}
