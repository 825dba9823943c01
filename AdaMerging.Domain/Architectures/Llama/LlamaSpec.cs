using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>
/// A recognised Llama-family decoder: its config, names, and what the service asks of it (docs/algorithm.md, "Decoder
/// language models"). Merged by every method; run (a classifier's score on the last token, or as a language model
/// on prompts) when config.json came and a tokenizer this service reads (SentencePiece's tokenizer.model: Llama 2,
/// Mistral; tokenizer.json's byte-level BPE: Llama 3, Qwen2), and its data problems say what is missing.
/// </summary>
public sealed class LlamaSpec(IArchitecture architecture, LlamaConfig config, LlamaNames names, IReadOnlyDictionary<string, string> tokenizerFiles, bool configInferred)
    : ModelSpec(architecture, LlamaArchitecture.HuggingFaceLlama, configInferred)
{
    public override LlamaConfig Config { get; } = config;

    public LlamaNames Names { get; } = names;

    public override string Describe() => $"{Config.Describe()}, last-token pooling";

    public override DatasetModality Input => DatasetModality.Text;

    public override int FeatureSize => Config.HiddenSize;

    public override (string Weight, string Bias)? Classifier => LlamaNames.Classifier;

    public override string NamePrefix => Names.Prefix;

    public override int? MaxSequenceLength => Config.MaxPositions;

    public override int? DefaultSequenceLength => Math.Min(Bert.BertSpec.DefaultTokens, Config.MaxPositions);

    /// <summary>What the decoder runs on: everything but the classifier (score) and the old rotary buffers; lm_head as a language model.</summary>
    public override bool ReadsTensor(string name) => !IsClassifier(name) && !LlamaNames.IsBuffer(name);

    /// <summary>lm_head where the checkpoint has one, else the token embeddings where config.json ties them; a classifier or bare decoder with untied embeddings predicts no tokens.</summary>
    public override string? TokenScores(ITensorCatalog weights) =>
        weights.Find(LlamaNames.LmHead) is not null ? LlamaNames.LmHead : Config.TieWordEmbeddings && !ConfigInferred ? Names.Embedding : null;

    public override IModel CreateLanguageModel(ITensorSource weights) => new LlamaDecoder(Config, Names, allPositions: true);

    public override IModelView View(ITensorSource weights) => new SameNames(weights);

    public override IModel CreateModel(ITensorSource weights) => new LlamaDecoder(Config, Names);

    public override int? BlockOf(string tensor) => Names.BlockOf(tensor);

    public override IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors)
    {
        var merged = mergedTensors.ToHashSet(StringComparer.Ordinal);
        return [.. Enumerable.Range(0, Config.NumLayers).SelectMany(l => LlamaNames.LinearModules.Select(m => Names.Layer(l, m)))
            .Where(n => merged.Contains(n + ".weight"))];
    }

    public override IReadOnlyList<string> DataProblems(DatasetInfo data, string label) =>
    [
        .. ConfigInferred ? [$"{label} needs the base decoder run, and the base came without config.json: its heads cannot be read off the weights"] : Array.Empty<string>(),
        .. Tokenizer() is null ? [$"{label} holds text and the base checkpoint came without a tokenizer this service reads ({TokenizerHelp})"] : Array.Empty<string>(),
    ];

    public override (IExampleRows Rows, Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null) =>
        PromptRows.Open(path, info, Tokenizer() ?? throw new CheckpointFormatException($"the base checkpoint has no tokenizer ({TokenizerHelp})"),
            maxSequenceLength ?? DefaultSequenceLength!.Value);

    public override void Verify(ModelFolder folder) => _ = Tokenizer();

    private const string TokenizerHelp = "SentencePiece's tokenizer.model, as Llama 2 and Mistral ship, or tokenizer.json with a byte-level BPE, as Llama 3 and Qwen2 ship";

    /// <summary>
    /// tokenizer.model when it came (Llama 2 and Mistral ship it beside a SentencePiece-style tokenizer.json, which is
    /// the same tokenizer), else tokenizer.json's byte-level BPE (docs/algorithm.md, "Tokenizers").
    /// </summary>
    private readonly Lazy<ICausalTokenizer?> _tokenizer = new(() =>
        SentencePieceModel.Present(tokenizerFiles) ? SentencePieceModel.Open(tokenizerFiles, config.PadTokenId)
        : TokenizerJsonBpe.Present(tokenizerFiles) ? TokenizerJsonBpe.Open(tokenizerFiles, config.PadTokenId) : null);

    private ICausalTokenizer? Tokenizer() => _tokenizer.Value;

    public override ModelMemory Memory => LlamaMemory.Of(Config, DefaultSequenceLength!.Value) with { TokenScores = (long)DefaultSequenceLength!.Value * Config.VocabSize };

    public override string MergedConfigJson(ModelFolder baseFolder) => baseFolder.ConfigJson ?? Config.ToJson([TransformersClass(baseFolder)!]);

    public override string? TransformersClass(ModelFolder baseFolder)
    {
        string family = Config.ModelType switch { "mistral" => "Mistral", "qwen2" => "Qwen2", _ => "Llama" };
        return Names.Prefix.Length == 0 ? $"{family}Model"
            : baseFolder.Weights.Find(LlamaNames.Classifier.Weight) is not null ? $"{family}ForSequenceClassification" : $"{family}ForCausalLM";
    }
}
