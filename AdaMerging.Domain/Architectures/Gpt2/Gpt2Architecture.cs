using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>
/// GPT-2 decoders in Hugging Face's names: GPT2Model and GPT2ForSequenceClassification (the score on the last token
/// that is not padding); the config from config.json (checked against the shapes) or read off the shapes, the
/// byte-level BPE tokenizer from the files beside the weights (docs/algorithm.md, "Text models").
/// </summary>
public sealed class Gpt2Architecture : IArchitecture, IReferenceChecked, IRandomProblems
{
    public const string HuggingFaceGpt2 = "hugging_face_gpt2";

    public string Name => "gpt2";

    public string Summary => "GPT-2 decoders: Hugging Face GPT2Model / GPT2ForSequenceClassification (last-token score)";

    public IReadOnlyList<string> Layouts { get; } = [HuggingFaceGpt2];

    public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        ByteLevelBpeTokenizer.VocabJson, ByteLevelBpeTokenizer.MergesFile, "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
    };

    /// <summary>The benchmark shapes: a tiny one and GPT-2's smallest (124 M), at 128 tokens.</summary>
    public static readonly IReadOnlyDictionary<string, (Gpt2Config Config, int Tokens)> Shapes = new Dictionary<string, (Gpt2Config, int)>(StringComparer.Ordinal)
    {
        ["gpt2-tiny"] = (new Gpt2Config(1000, 64, 2, 2, 256, 64), 32),
        ["gpt2"] = (new Gpt2Config(50257, 768, 12, 12, 3072, 1024), 128),
    };

    public IReadOnlyList<string> Sizes => [.. Shapes.Keys];

    public string Describe(string size) => $"{Shapes[size].Config.Describe()}, {Shapes[size].Tokens} tokens";

    public IRandomProblem Random(string size, int k, int batch, ScalarType dtype, Device device) =>
        RandomProblem(Shapes[size].Config, Shapes[size].Tokens, k, batch, dtype, device);

    /// <summary>A GPT2Model (the shape's config) as <see cref="TextRandomProblem"/> draws it.</summary>
    public static TextRandomProblem RandomProblem(Gpt2Config config, int tokens, int k, int batch, ScalarType dtype, Device device)
    {
        var names = new Gpt2Names("");
        return new TextRandomProblem(new Gpt2Decoder(config, names), names.Expected(config), Gpt2Names.IsNormScale, config.HiddenSize,
            config.VocabSize, tokens, BertMemory.TextTransformer(config.NumLayers, config.HiddenSize, config.InnerSize, config.NumHeads, tokens, 0),
            k, batch, dtype, seed: 13, device);
    }

    public IEnumerable<(string Name, double Difference)> ReferenceChecks(string fixtures, Device device) => Gpt2ReferenceChecks.Run(fixtures, device);

    public ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        if (Gpt2Names.Of(weights) is not { } names) return null;
        var shapes = Gpt2Layout.Infer(weights, names);
        var config = files.ConfigJson is { } json ? Gpt2Config.Parse(json, shapes) : shapes;
        if (files.ConfigJson is null && config.Problems() is { Count: > 0 } problems)
            throw new CheckpointFormatException($"the weights are not a GPT-2 decoder's: {string.Join("; ", problems)}");
        var mismatches = Gpt2Layout.Mismatches(config, weights, names);
        if (mismatches.Count > 0)
            throw new CheckpointFormatException($"the weights do not match {(files.ConfigJson is null ? "the decoder their shapes imply" : "config.json")}: {string.Join("; ", mismatches)}");
        var tokenizer = files.SideFiles.Where(f => SideFiles.Contains(f.Key)).ToDictionary(StringComparer.Ordinal);
        return new Gpt2Spec(this, config, names, tokenizer, files.ConfigJson is null);
    }
}
