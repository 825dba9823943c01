using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;

namespace AdaMerging.Domain.Checkpoints;

public enum CheckpointFormat
{
    Safetensors,
    ShardedSafetensors,
    PyTorch,
}

/// <summary>
/// A checkpoint as users bring it: weights (one safetensors file, shards with their index, or a PyTorch state dict)
/// and optionally config.json, given as file name → path. The CLIP config comes from config.json when present and
/// is checked against the weights' shapes; otherwise it is inferred from the shapes.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    public const string ConfigFileName = "config.json";

    private static readonly string[] PickleExtensions = [".bin", ".pth", ".pt"];

    /// <summary>
    /// Files that come with published CLIP checkpoints beside the weights: the tokenizer (Hugging Face's vocab.json and
    /// merges.txt, open_clip's BPE file) and Hugging Face's tokenizer and processor settings. Stored, carried into a
    /// merged full CLIP, never read as weights.
    /// </summary>
    public static readonly IReadOnlySet<string> SideFileNames = new HashSet<string>(StringComparer.Ordinal)
    {
        ClipTokenizer.VocabularyFile, ClipTokenizer.MergesFile, ClipTokenizer.OpenClipFile,
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json",
    };

    private readonly Dictionary<string, string> _sideFiles;

    private ModelFolder(ITensorSource weights, CheckpointFormat format, CheckpointLayout layout, ClipVisionConfig? config, bool configInferred,
        string? configJson, Dictionary<string, string> sideFiles)
    {
        _sideFiles = sideFiles;
        ConfigJson = configJson;
        Weights = weights;
        Format = format;
        Layout = layout;
        Config = config;
        ConfigInferred = configInferred;
    }

    public ITensorSource Weights { get; }

    public CheckpointFormat Format { get; }

    public CheckpointLayout Layout { get; }

    public ClipVisionConfig? Config { get; }

    public bool ConfigInferred { get; }

    /// <summary>config.json as uploaded (a full CLIP's CLIPConfig is written back with the merged model unchanged).</summary>
    public string? ConfigJson { get; }

    /// <summary>A full CLIP (Hugging Face CLIPModel or open_clip): the vision tower with a text tower beside it.</summary>
    public bool HasTextTower
    {
        get
        {
            if (Layout == CheckpointLayout.Unknown) return false;
            using var view = HuggingFaceView();
            return view.Find(ClipTextLayout.TokenEmbedding) is not null;
        }
    }

    /// <summary>The side files (tokenizer, settings) that came with the weights, file name → path.</summary>
    public IReadOnlyDictionary<string, string> SideFiles => _sideFiles;

    /// <summary>The checkpoint's own CLIP tokenizer; null when no tokenizer files came with it.</summary>
    public ClipTokenizer? Tokenizer() => ClipTokenizer.FromFiles(_sideFiles);

    /// <summary>The width of the features the encoder gives its heads: the projection's if it has one, else the hidden size.</summary>
    public int? FeatureSize => Config is null ? null
        : HuggingFaceView().Find(ClipVisionLayout.Projection) is not null ? Config.ProjectionDim : Config.HiddenSize;

    /// <summary>The names a checkpoint's files may have; anything else is refused.</summary>
    public static string? FileNameProblem(string name) =>
        name != Path.GetFileName(name) || name.StartsWith('.') || name.Length > 200 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            ? $"'{name}' is not a plain file name (letters, digits, '.', '_' and '-')"
            : name == ConfigFileName || name == ShardedSafetensors.IndexFileName || name.EndsWith(".safetensors", StringComparison.Ordinal)
              || PickleExtensions.Any(e => name.EndsWith(e, StringComparison.Ordinal)) || SideFileNames.Contains(name)
                ? null
                : $"'{name}' is not a checkpoint file (config.json, {ShardedSafetensors.IndexFileName}, *.safetensors, *.bin, *.pth, *.pt, "
                  + $"or the tokenizer's {string.Join(", ", SideFileNames)})";

    public static ModelFolder Open(IReadOnlyDictionary<string, string> files)
    {
        var problems = files.Keys.Select(FileNameProblem).OfType<string>().ToList();
        if (problems.Count > 0) throw new CheckpointFormatException(string.Join("; ", problems));
        var sideFiles = files.Where(f => SideFileNames.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        var (weights, format) = OpenWeights(files.Where(f => !SideFileNames.Contains(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));
        try
        {
            var layout = OpenClipAsHuggingFace.IsOpenClip(weights) ? CheckpointLayout.OpenClip
                : ClipVisionLayout.IsHuggingFace(weights) ? CheckpointLayout.HuggingFaceClipVision
                : CheckpointLayout.Unknown;
            ClipVisionConfig? config = null;
            string? configJson = null;
            bool inferred = false;
            if (files.TryGetValue(ConfigFileName, out var configPath))
            {
                if (new FileInfo(configPath).Length > 1 << 20) throw new CheckpointFormatException("config.json is larger than 1 MiB");
                configJson = File.ReadAllText(configPath);
                config = ClipVisionConfig.Parse(configJson);
            }
            if (layout != CheckpointLayout.Unknown)
            {
                using var view = layout == CheckpointLayout.OpenClip ? new OpenClipAsHuggingFace(new NonOwning(weights)) : null;
                ITensorCatalog hf = view ?? (ITensorCatalog)weights;
                if (config is null)
                {
                    config = ClipVisionLayout.Infer(hf);
                    inferred = true;
                }
                var mismatches = ClipVisionLayout.Mismatches(config, hf);
                if (mismatches.Count > 0)
                    throw new CheckpointFormatException($"the weights do not match {(inferred ? "the config their shapes imply" : "config.json")}: {string.Join("; ", mismatches)}");
            }
            return new ModelFolder(weights, format, layout, config, inferred, configJson, sideFiles);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>The weights in Hugging Face CLIP names (open_clip is mapped; others are shown as they are).</summary>
    public ITensorSource HuggingFaceView() =>
        Layout == CheckpointLayout.OpenClip ? new OpenClipAsHuggingFace(new NonOwning(Weights)) : new NonOwning(Weights);

    public void Dispose() => Weights.Dispose();

    private static (ITensorSource, CheckpointFormat) OpenWeights(IReadOnlyDictionary<string, string> files)
    {
        if (files.TryGetValue(ShardedSafetensors.IndexFileName, out var index))
        {
            var shards = ShardedSafetensors.ShardNames(index);
            var stray = files.Keys.Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) && !shards.Contains(f)).ToList();
            if (stray.Count > 0) throw new CheckpointFormatException($"{string.Join(", ", stray)} not named by {ShardedSafetensors.IndexFileName}");
            return (ShardedSafetensors.Open(index, f => files.GetValueOrDefault(f)), CheckpointFormat.ShardedSafetensors);
        }
        var weights = files.Keys.Where(f => f != ConfigFileName).ToList();
        return weights switch
        {
            [] => throw new CheckpointFormatException("no weights: expected one .safetensors file, shards with their index, or a PyTorch .bin/.pth/.pt"),
            [var one] when one.EndsWith(".safetensors", StringComparison.Ordinal) => (SafetensorsFile.Open(files[one]), CheckpointFormat.Safetensors),
            [var one] => (PickledStateDict.Open(files[one]), CheckpointFormat.PyTorch),
            _ => throw new CheckpointFormatException($"several weight files ({string.Join(", ", weights)}) without {ShardedSafetensors.IndexFileName}"),
        };
    }

    /// <summary>A view that leaves the underlying source open when disposed.</summary>
    private sealed class NonOwning(ITensorSource inner) : ITensorSource
    {
        public IReadOnlyList<TensorInfo> Tensors => inner.Tensors;

        public TensorInfo? Find(string name) => inner.Find(name);

        public TorchSharp.torch.Tensor Read(string name, TorchSharp.torch.ScalarType? convertTo = null) => inner.Read(name, convertTo);

        public void ReadInto(string name, TorchSharp.torch.Tensor destination) => inner.ReadInto(name, destination);

        public void Dispose() { }
    }
}
