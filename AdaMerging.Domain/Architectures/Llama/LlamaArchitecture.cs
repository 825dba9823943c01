using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>
/// Decoders of the Llama family in Hugging Face's names (docs/algorithm.md, "Decoder language models"): Llama 2 and 3
/// (grouped-query attention, Llama 3.1's rope scaling), Mistral (its sliding window), Qwen2 (q, k and v biases), as
/// LlamaForCausalLM, LlamaForSequenceClassification or a bare LlamaModel, tied or untied; the config from config.json
/// (checked against the shapes) or read off the shapes.
/// </summary>
public sealed class LlamaArchitecture : IArchitecture, IReferenceChecked, IRandomProblems
{
    public const string HuggingFaceLlama = "hugging_face_llama";

    public string Name => "llama";

    public string Summary => "Llama-family decoders (Llama 2/3, Mistral, Qwen2): Hugging Face *ForCausalLM / *ForSequenceClassification / *Model";

    public IReadOnlyList<string> Layouts { get; } = [HuggingFaceLlama];

    public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
    };

    /// <summary>
    /// The benchmark shapes: a tiny one and a 125 M-parameter Llama (12 layers of 768, 12 heads, 4 key-value heads), at
    /// 256 tokens, as classifiers (a 10-class score on the last token) and as language models (<c>-lm</c>: an untied
    /// lm_head over the vocabulary scoring every token, docs/algorithm.md, "Language-model tasks").
    /// </summary>
    public static readonly IReadOnlyDictionary<string, (LlamaConfig Config, int Tokens, bool LanguageModel)> Shapes =
        new Dictionary<string, (LlamaConfig, int, bool)>(StringComparer.Ordinal)
    {
        ["llama-tiny"] = (TinyShape, 32, false),
        ["llama-125m"] = (Shape125M, 256, false),
        ["llama-tiny-lm"] = (TinyShape, 32, true),
        ["llama-125m-lm"] = (Shape125M, 256, true),
    };

    private static LlamaConfig TinyShape => new("llama", 1000, 64, 128, 2, 4, 2, 16, MaxPositions: 256);

    private static LlamaConfig Shape125M => new("llama", 32000, 768, 2048, 12, 12, 4, 64, MaxPositions: 2048);

    public IReadOnlyList<string> Sizes => [.. Shapes.Keys];

    public string Describe(string size) =>
        $"{Shapes[size].Config.Describe()}, {Shapes[size].Tokens} tokens{(Shapes[size].LanguageModel ? ", as a language model" : "")}";

    public IRandomProblem Random(string size, int k, int batch, ScalarType dtype, Device device)
    {
        var (config, tokens, languageModel) = Shapes[size];
        var names = new LlamaNames("model.");
        var memory = LlamaMemory.Of(config, tokens);
        if (!languageModel)
            return new TextRandomProblem(new LlamaDecoder(config, names), names.Expected(config), LlamaNames.IsNormScale, config.HiddenSize,
                config.VocabSize, tokens, memory, k, batch, dtype, seed: 13, device);
        return new TextRandomProblem(new LlamaDecoder(config, names, allPositions: true),
            names.Expected(config).Append((LlamaNames.LmHead, new long[] { config.VocabSize, config.HiddenSize })), LlamaNames.IsNormScale, config.HiddenSize,
            config.VocabSize, tokens, memory with { TokenScores = (long)tokens * config.VocabSize }, k, batch, dtype, seed: 13, device,
            head: new Models.LanguageModelHead(LlamaNames.LmHead));
    }

    public IEnumerable<(string Name, double Difference)> ReferenceChecks(string fixtures, Device device)
    {
        foreach (var variant in Variants)
            yield return ($"Llama family ({variant}) against PyTorch", Bert.BertReferenceChecks.Forward(Path.Combine(fixtures, "llama_tiny", variant), device));
    }

    /// <summary>The fixtures tools/make_llama_fixture.py writes.</summary>
    public static readonly string[] Variants = ["llama_classifier", "llama3_causal_lm", "qwen2_tied", "mistral_plain"];

    public ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        if (LlamaNames.Of(weights) is not { } names) return null;
        var shapes = LlamaLayout.Infer(weights, names);
        var config = files.ConfigJson is { } json ? LlamaConfig.Parse(json, shapes) : shapes;
        if (files.ConfigJson is null && config.Problems() is { Count: > 0 } problems)
            throw new CheckpointFormatException($"the weights are not a Llama-family decoder's: {string.Join("; ", problems)}");
        var mismatches = LlamaLayout.Mismatches(config, weights, names);
        if (mismatches.Count > 0)
            throw new CheckpointFormatException($"the weights do not match {(files.ConfigJson is null ? "the decoder their shapes imply" : "config.json")}: {string.Join("; ", mismatches)}");
        var tokenizer = files.SideFiles.Where(f => SideFiles.Contains(f.Key)).ToDictionary(StringComparer.Ordinal);
        return new LlamaSpec(this, config, names, tokenizer, files.ConfigJson is null);
    }
}
