using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Bert;

/// <summary>A recognised BERT-family encoder: its config, names, pooling, tokenizer files, and what the service asks of it (docs/algorithm.md, "Text models").</summary>
public sealed class BertSpec(IArchitecture architecture, string layout, BertConfig config, BertNames names, IReadOnlyDictionary<string, string> tokenizerFiles, bool configInferred)
    : ModelSpec(architecture, layout, configInferred)
{
    /// <summary>Tokens an example is cut to by default: 128, as FusionBench's GLUE runs and sentence-transformers' MiniLM use, or the model's positions when fewer.</summary>
    public const int DefaultTokens = 128;

    public override BertConfig Config { get; } = config;

    public BertNames Names { get; } = names;

    /// <summary>
    /// RoBERTa's classifier's &lt;s&gt; token (RobertaForSequenceClassification never reads a RobertaModel's pooler); else
    /// the pooler when the encoder has one; else the mean over the tokens (sentence-transformers).
    /// </summary>
    public BertPooling Pooling { get; } = names.Roberta ? BertPooling.FirstToken : names.HasPooler ? BertPooling.Pooler : BertPooling.Mean;

    public override string Describe() => $"{Config.Describe()}, {Pooling switch { BertPooling.Pooler => "pooler", BertPooling.FirstToken => "first-token", _ => "mean" }} pooling";

    public override DatasetModality Input => DatasetModality.Text;

    public override int FeatureSize => Config.HiddenSize;

    public override (string Weight, string Bias)? Classifier => Names.Classifier;

    public override string NamePrefix => Names.Prefix;

    public override (string Weight, string Bias)? ClassifierHidden => Names.ClassifierHidden;

    public override int? MaxSequenceLength => Config.MaxTokens;

    public override int? DefaultSequenceLength => Math.Min(DefaultTokens, Config.MaxTokens);

    /// <summary>What the encoder runs on: everything but the classifier (integer buffers such as position_ids are never read).</summary>
    public override bool ReadsTensor(string name) => !IsClassifier(name);

    public override IModelView View(ITensorSource weights) => new SameNames(weights);

    public override IModel CreateModel(ITensorSource weights) => new BertEncoder(Config, Names, Pooling);

    /// <summary>The encoder layer; the embeddings are before the blocks, the pooler after them.</summary>
    public override int? BlockOf(string tensor) => Names.BlockOf(tensor);

    /// <summary>Every layer's query, key, value, attention output, intermediate and output dense layers that are merged.</summary>
    public override IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors)
    {
        var merged = mergedTensors.ToHashSet(StringComparer.Ordinal);
        return [.. Enumerable.Range(0, Config.NumHiddenLayers).SelectMany(l => BertNames.LinearModules.Select(m => Names.Layer(l, m)))
            .Where(n => merged.Contains(n + ".weight"))];
    }

    public override IReadOnlyList<string> DataProblems(DatasetInfo data, string label) =>
        Tokenizer() is null ? [$"{label} holds text and the base checkpoint came without a tokenizer this service reads ({TokenizerHelp})"] : [];

    public override (IExampleRows Rows, Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null) =>
        TextRows.Open(path, Tokenizer() ?? throw new CheckpointFormatException($"the base checkpoint has no tokenizer ({TokenizerHelp})"),
            maxSequenceLength ?? DefaultSequenceLength!.Value);

    public override ModelMemory Memory => BertMemory.Of(Config, DefaultSequenceLength!.Value);

    /// <summary>The base's own config.json when it came with one, else Hugging Face's for its shape.</summary>
    public override string MergedConfigJson(ModelFolder baseFolder) => baseFolder.ConfigJson ?? Config.ToJson(TransformersClass(baseFolder) is { } c ? [c] : null);

    public override string? TransformersClass(ModelFolder baseFolder) => Names.Prefix switch
    {
        "bert." => "BertForSequenceClassification",
        "roberta." => "RobertaForSequenceClassification",
        _ => Config.IsRoberta ? "RobertaModel" : "BertModel",
    };

    /// <summary>Tokenizer files that came must parse, or the upload is refused when sealed.</summary>
    public override void Verify(ModelFolder folder) => _ = Tokenizer();

    private const string TokenizerHelp = "WordPiece: vocab.txt or tokenizer.json, with tokenizer_config.json; byte-level BPE: vocab.json and merges.txt";

    /// <summary>Read once per recognised checkpoint (pre-flight, seal and each dataset a job opens ask for it); null when no tokenizer came.</summary>
    /// <remarks>WordPiece when its files came (BERT, MiniLM), else byte-level BPE (RoBERTa's own: &lt;s&gt; text &lt;/s&gt;).</remarks>
    private readonly Lazy<ITextTokenizer?> _tokenizer = new(() =>
        WordPieceTokenizer.Present(tokenizerFiles) ? WordPieceTokenizer.Open(tokenizerFiles)
        : ByteLevelBpeTokenizer.Present(tokenizerFiles) ? ByteLevelBpeTokenizer.Open(tokenizerFiles, roberta: true)
        : null);

    private ITextTokenizer? Tokenizer() => _tokenizer.Value;
}
