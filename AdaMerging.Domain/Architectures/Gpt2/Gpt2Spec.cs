using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Gpt2;

/// <summary>A recognised GPT-2 decoder: its config, names, tokenizer files, and what the service asks of it (docs/algorithm.md, "Text models").</summary>
public sealed class Gpt2Spec(IArchitecture architecture, Gpt2Config config, Gpt2Names names, IReadOnlyDictionary<string, string> tokenizerFiles, bool configInferred)
    : ModelSpec(architecture, Gpt2Architecture.HuggingFaceGpt2, configInferred)
{
    public override Gpt2Config Config { get; } = config;

    public Gpt2Names Names { get; } = names;

    public override string Describe() => $"{Config.Describe()}, last-token pooling";

    public override DatasetModality Input => DatasetModality.Text;

    public override int FeatureSize => Config.HiddenSize;

    public override (string Weight, string Bias)? Classifier => Gpt2Names.Classifier;

    public override string NamePrefix => Names.Prefix;

    public override int? MaxSequenceLength => Config.Positions;

    public override int? DefaultSequenceLength => Math.Min(BertSpec.DefaultTokens, Config.Positions);

    /// <summary>What the decoder runs on: everything but the score and the old causal-mask buffers (carried from the base).</summary>
    public override bool ReadsTensor(string name) => !IsClassifier(name) && !Names.IsBuffer(name);

    public override IModelView View(ITensorSource weights) => new SameNames(weights);

    public override IModel CreateModel(ITensorSource weights) => new Gpt2Decoder(Config, Names);

    /// <summary>GPT-2 ties its output to the token embeddings (GPT2LMHeadModel's lm_head is wte), so every GPT-2 checkpoint predicts tokens.</summary>
    public override string? TokenScores(ITensorCatalog weights) => Names.Embedding("wte.weight");

    public override IModel CreateLanguageModel(ITensorSource weights) => new Gpt2Decoder(Config, Names, allPositions: true);

    public override int? BlockOf(string tensor) => Names.BlockOf(tensor);

    public override IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors)
    {
        var merged = mergedTensors.ToHashSet(StringComparer.Ordinal);
        return [.. Enumerable.Range(0, Config.NumLayers).SelectMany(l => Gpt2Names.LinearModules.Select(m => Names.Layer(l, m)))
            .Where(n => merged.Contains(n + ".weight"))];
    }

    /// <summary>Conv1D: every linear layer's weight is [in, out] (RegMean reads it so).</summary>
    public override bool LinearWeightIsInputByOutput(string layer) => true;

    public override IReadOnlyList<string> DataProblems(DatasetInfo data, string label) =>
        Tokenizer() is null ? [$"{label} holds text and the base checkpoint came without a tokenizer this service reads ({TokenizerHelp})"] : [];

    public override (IExampleRows Rows, Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null) =>
        PromptRows.Open(path, info, Tokenizer() ?? throw new CheckpointFormatException($"the base checkpoint has no tokenizer ({TokenizerHelp})"),
            maxSequenceLength ?? DefaultSequenceLength!.Value);

    public override ModelMemory Memory => BertMemory.TextTransformer(Config.NumLayers, Config.HiddenSize, Config.InnerSize, Config.NumHeads,
        DefaultSequenceLength!.Value, ObservedGrams(Config)) with { TokenScores = (long)DefaultSequenceLength!.Value * Config.VocabSize };

    public override string MergedConfigJson(ModelFolder baseFolder) => baseFolder.ConfigJson ?? Config.ToJson([TransformersClass(baseFolder)!]);

    public override string? TransformersClass(ModelFolder baseFolder) => Names.Prefix.Length == 0 ? "GPT2Model" : "GPT2ForSequenceClassification";

    public override void Verify(ModelFolder folder) => _ = Tokenizer();

    private const string TokenizerHelp = "byte-level BPE: vocab.json and merges.txt";

    private readonly Lazy<ByteLevelBpeTokenizer?> _tokenizer = new(() =>
        ByteLevelBpeTokenizer.Present(tokenizerFiles) ? ByteLevelBpeTokenizer.Open(tokenizerFiles, roberta: false, config.PadTokenId) : null);

    private ByteLevelBpeTokenizer? Tokenizer() => _tokenizer.Value;

    /// <summary>RegMean's per block: c_attn (h → 3h), attn.c_proj (h → h), c_fc (h → m), mlp.c_proj (m → h); Gram, its sum, and Σ G W.</summary>
    private static long ObservedGrams(Gpt2Config c)
    {
        long h = c.HiddenSize, m = c.InnerSize;
        long perLayer = (2 * h * h + 3 * h * h) + (2 * h * h + h * h) + (2 * h * h + h * m) + (2 * m * m + m * h);
        return c.NumLayers * perLayer * 4;
    }
}
