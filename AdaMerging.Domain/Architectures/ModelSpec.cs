using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// A checkpoint's model as its architecture recognised it: layout and config, and everything the service asks of a
/// model — which tensors it runs on, the model itself, the block of each tensor, the linear layers RegMean observes,
/// its input and how task data becomes that input, the width of the features its heads take, memory per example,
/// and what a merged model is written with (docs/algorithm.md, "Architectures").
/// </summary>
public abstract class ModelSpec(IArchitecture architecture, string layout, bool configInferred)
{
    public IArchitecture Architecture { get; } = architecture;

    /// <summary>The layout on the wire, one of the architecture's <see cref="IArchitecture.Layouts"/>.</summary>
    public string Layout { get; } = layout;

    /// <summary>True when no config.json came and the config was read off the weights' shapes.</summary>
    public bool ConfigInferred { get; } = configInferred;

    /// <summary>The config as the service describes the model (stored with the checkpoint, shown by the API).</summary>
    public abstract object Config { get; }

    /// <summary>One line: the model's shape in words.</summary>
    public abstract string Describe();

    /// <summary>What the model takes as input; a dataset of another modality is refused at pre-flight.</summary>
    public abstract DatasetModality Input { get; }

    /// <summary>
    /// Causal language models: the output matrix [V, H] whose rows score the vocabulary in these weights (lm_head, or
    /// the token embeddings where they are tied); null when the model predicts no tokens (docs/algorithm.md,
    /// "Language-model tasks"). Such a model also takes <see cref="DatasetModality.Prompts"/>.
    /// </summary>
    public virtual string? TokenScores(ITensorCatalog weights) => null;

    /// <summary>Causal language models: the model whose last stage gives every position's final hidden states [B, L, H], scored by <see cref="TokenScores"/>.</summary>
    public virtual IModel CreateLanguageModel(ITensorSource weights) =>
        throw new NotSupportedException($"{Architecture.Name} ({Describe()}) is not a causal language model");

    /// <summary>The width of the features the model gives its heads.</summary>
    public abstract int FeatureSize { get; }

    /// <summary>Whether the runnable model reads this tensor (of the checkpoint's own names); others (a text tower) are only carried.</summary>
    public abstract bool ReadsTensor(string name);

    /// <summary>The weights in the names the model runs on and merged models are written in.</summary>
    public abstract IModelView View(ITensorSource weights);

    /// <summary>The runnable model over these weights' names.</summary>
    public abstract IModel CreateModel(ITensorSource weights);

    /// <summary>
    /// The classifier the layout carries on the features (its weight and bias tensors), when it has one: never merged
    /// (a merged model carries the base's), and a task checkpoint's own is that task's head when no head resource is
    /// given (docs/algorithm.md, "Heads").
    /// </summary>
    public virtual (string Weight, string Bias)? Classifier => null;

    /// <summary>
    /// A classification head's hidden layer before <see cref="Classifier"/> (dense then tanh: RoBERTa's
    /// classifier.dense), when the layout has one: part of each task's head like the classifier.
    /// </summary>
    public virtual (string Weight, string Bias)? ClassifierHidden => null;

    /// <summary>
    /// What the layout puts before the encoder's names, Hugging Face's base-model prefix (<c>bert.</c>, <c>roberta.</c>,
    /// <c>transformer.</c>, <c>resnet.</c>); empty for a bare encoder. A task saved with its head beside a base saved
    /// without is read under the base's names (<see cref="Checkpoints.ModelFolder.WeightsNamedAs"/>).
    /// </summary>
    public virtual string NamePrefix => "";

    /// <summary>The classifier's tensors (with its hidden layer's).</summary>
    public IReadOnlyList<string> ClassifierTensors =>
        [.. new[] { Classifier, ClassifierHidden }.OfType<(string Weight, string Bias)>().SelectMany(c => new[] { c.Weight, c.Bias })];

    /// <summary>Whether a tensor is the classifier's: carried from the base, never merged nor compared across checkpoints.</summary>
    public bool IsClassifier(string tensor) => ClassifierTensors.Contains(tensor);

    /// <summary>Text models: the most tokens an example may have (the model's positions); null for other inputs.</summary>
    public virtual int? MaxSequenceLength => null;

    /// <summary>Text models: the tokens an example is cut to when the merge's maxSequenceLength is not given.</summary>
    public virtual int? DefaultSequenceLength => null;

    /// <summary>
    /// The tensor whose layer-wise coefficient this one shares (a batch norm's running statistics follow its weight,
    /// docs/algorithm.md, "Batch normalisation"); null when it has its own.
    /// </summary>
    public virtual string? SharesCoefficientWith(string tensor) => null;

    /// <summary>Whether the model has batch norms whose running statistics can be recomputed (its model is <see cref="IBatchNormalised"/>).</summary>
    public virtual bool HasBatchNorm => false;

    /// <summary>
    /// The shape the spectral merges (TSV-M, Iso-C, Iso-CTS) decompose a tensor as; they decompose 2-D shapes and
    /// average the rest. By default a tensor's own (the authors' code: a ViT's patch convolution is averaged).
    /// </summary>
    public virtual IReadOnlyList<long> SpectralShape(string tensor, IReadOnlyList<long> shape) => shape;

    /// <summary>Whether a tensor is a batch norm's running mean or variance (statistics, not parameters).</summary>
    public virtual bool IsRunningStatistic(string tensor) => false;

    /// <summary>Which block a tensor belongs to, for layer-wise coefficients per block; null before or after the blocks.</summary>
    public abstract int? BlockOf(string tensor);

    /// <summary>
    /// The linear layers (names without ".weight") among the merged tensors that <see cref="IModel.Observed"/> reports
    /// with their inputs: what RegMean can solve for. Empty when it reports none of them.
    /// </summary>
    public abstract IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors);

    /// <summary>Whether a linear layer's weight (<paramref name="layer"/> without ".weight") is stored [in, out], as GPT-2's Conv1D does, not nn.Linear's [out, in].</summary>
    public virtual bool LinearWeightIsInputByOutput(string layer) => false;

    /// <summary>What stops a dataset of the right modality from feeding this model (shapes, channels); empty when it can.</summary>
    public abstract IReadOnlyList<string> DataProblems(DatasetInfo data, string label);

    /// <summary>A dataset's examples, read a batch at a time as the model's input, and its labels when it has them.</summary>
    /// <param name="scratchPath">Where a dataset that must be decoded first (an image archive) may be spilled; removed by the caller.</param>
    /// <param name="maxSequenceLength">Text models: tokens an example is cut to (null: <see cref="DefaultSequenceLength"/>); others ignore it.</param>
    public abstract (IExampleRows Rows, TorchSharp.torch.Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null);

    /// <summary>What one example costs the model's forward pass, for the memory estimate.</summary>
    public abstract ModelMemory Memory { get; }

    /// <summary>config.json for a merged model of this base (its architecture's own form).</summary>
    public abstract string MergedConfigJson(ModelFolder baseFolder);

    /// <summary>The class a merged model loads with in Hugging Face's transformers, for the model card; null when none.</summary>
    public virtual string? TransformersClass(ModelFolder baseFolder) => null;

    /// <summary>Checks made once, when a checkpoint is sealed, beyond recognising it (side files that must parse); throws <see cref="CheckpointFormatException"/>.</summary>
    public virtual void Verify(ModelFolder folder) { }
}

/// <summary>
/// What one example costs a model, for the memory estimate (docs/algorithm.md, "Memory"): elements unless bytes are said.
/// </summary>
/// <param name="InputBytes">One example's input as the model reads it (float32 images).</param>
/// <param name="Blocks">The repeated blocks whose activations autograd keeps.</param>
/// <param name="BlockActivations">Elements autograd keeps per example and block.</param>
/// <param name="StageInputs">Elements kept between stages per example with checkpointing (every stage's input).</param>
/// <param name="ForwardWithoutGraph">Elements a forward pass without a graph holds at once per example (evaluation, RegMean).</param>
/// <param name="BlockParameters">One block's parameters: the weight gradient checkpointing holds at once.</param>
/// <param name="ObservedGramBytes">RegMean's Gram matrices with their sums for every observed layer, in bytes.</param>
/// <param name="TokenScores">Causal language models: next-token scores per example (tokens × vocabulary), 0 for others.</param>
public sealed record ModelMemory(long InputBytes, int Blocks, long BlockActivations, long StageInputs, long ForwardWithoutGraph,
    long BlockParameters, long ObservedGramBytes, long TokenScores = 0);
