using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>
/// BERT-family text encoders (BERT, RoBERTa, MiniLM and their kin) in Hugging Face's names: BertModel,
/// BertForSequenceClassification, RobertaModel, RobertaForSequenceClassification; the config from config.json
/// (checked against the shapes) or read off the shapes, the tokenizer from the files beside the weights
/// (docs/algorithm.md, "Text models").
/// </summary>
public sealed class BertArchitecture : IArchitecture, IReferenceChecked, IRandomProblems
{
    public const string HuggingFaceBert = "hugging_face_bert";
    public const string HuggingFaceRoberta = "hugging_face_roberta";

    public string Name => "bert";

    public string Summary => "BERT-family text encoders (BERT, RoBERTa, MiniLM): Hugging Face BertModel / BertForSequenceClassification / RobertaForSequenceClassification";

    public IReadOnlyList<string> Layouts { get; } = [HuggingFaceBert, HuggingFaceRoberta];

    public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        WordPieceTokenizer.VocabFile, WordPieceTokenizer.TokenizerJson, WordPieceTokenizer.ConfigFile, "special_tokens_map.json",
        ByteLevelBpeTokenizer.VocabJson, ByteLevelBpeTokenizer.MergesFile,
    };

    /// <summary>The benchmark shapes: a tiny one, all-MiniLM-L6-v2's and BERT-base's, at 128 tokens (issue 29's).</summary>
    public static readonly IReadOnlyDictionary<string, (BertConfig Config, int Tokens)> Shapes = new Dictionary<string, (BertConfig, int)>(StringComparer.Ordinal)
    {
        ["bert-tiny"] = (new BertConfig(BertConfig.Bert, 1000, 64, 2, 2, 128, 64, 2), 32),
        ["minilm-l6"] = (new BertConfig(BertConfig.Bert, 30522, 384, 6, 12, 1536, 512, 2), 128),
        ["bert-base"] = (new BertConfig(BertConfig.Bert, 30522, 768, 12, 12, 3072, 512, 2), 128),
    };

    public IReadOnlyList<string> Sizes => [.. Shapes.Keys];

    public string Describe(string size) => $"{Shapes[size].Config.Describe()}, {Shapes[size].Tokens} tokens";

    public IRandomProblem Random(string size, int k, int batch, ScalarType dtype, Device device) =>
        RandomProblem(Shapes[size].Config, Shapes[size].Tokens, k, batch, dtype, device);

    /// <summary>A BertModel with a pooler (the shape's config) as <see cref="TextRandomProblem"/> draws it.</summary>
    public static TextRandomProblem RandomProblem(BertConfig config, int tokens, int k, int batch, ScalarType dtype, Device device)
    {
        var names = new BertNames("", HasPooler: true);
        return new TextRandomProblem(new BertEncoder(config, names, BertPooling.Pooler), names.Expected(config),
            name => name.EndsWith("LayerNorm.weight", StringComparison.Ordinal), config.HiddenSize, config.VocabSize, tokens,
            BertMemory.Of(config, tokens), k, batch, dtype, seed: 11, device);
    }

    public IEnumerable<(string Name, double Difference)> ReferenceChecks(string fixtures, Device device) => BertReferenceChecks.Run(fixtures, device);

    public ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        if (BertNames.Of(weights) is not { } names) return null;
        var shapes = BertLayout.Infer(weights, names);
        var config = files.ConfigJson is { } json ? BertConfig.Parse(json, shapes) : shapes;
        names = names with { Roberta = names.Roberta || config.IsRoberta };
        if (files.ConfigJson is null && config.Problems() is { Count: > 0 } problems)
            throw new CheckpointFormatException($"the weights are not a BERT-family encoder's: {string.Join("; ", problems)}");
        var mismatches = BertLayout.Mismatches(config, weights, names);
        if (mismatches.Count > 0)
            throw new CheckpointFormatException($"the weights do not match {(files.ConfigJson is null ? "the encoder their shapes imply" : "config.json")}: {string.Join("; ", mismatches)}");
        var tokenizer = files.SideFiles.Where(f => SideFiles.Contains(f.Key)).ToDictionary(StringComparer.Ordinal);
        return new BertSpec(this, config.IsRoberta ? HuggingFaceRoberta : HuggingFaceBert, config, names, tokenizer, files.ConfigJson is null);
    }
}
