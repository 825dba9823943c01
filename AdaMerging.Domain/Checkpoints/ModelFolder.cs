using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints.Lora;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Checkpoints;

/// <summary>What a file in a model folder is to the service (<see cref="ModelFolder.Classify"/>).</summary>
public enum CheckpointFileRole
{
    /// <summary>Weights: safetensors, shards with their index, or a PyTorch state dict.</summary>
    Weights,

    /// <summary>config.json.</summary>
    Config,

    /// <summary>A file a registered architecture reads beside the weights (a tokenizer, its own config).</summary>
    Side,

    /// <summary>A PEFT LoRA adapter's adapter_config.json: the folder is an adapter (<see cref="ModelFolder.Adapter"/>).</summary>
    AdapterConfig,

    /// <summary>Not stored: nothing reads it (a README, .gitattributes, training state).</summary>
    Skipped,
}

public enum CheckpointFormat
{
    Safetensors,
    ShardedSafetensors,
    PyTorch,
}

/// <summary>
/// A checkpoint as users bring it: weights (one safetensors file, shards with their index, or a PyTorch state dict),
/// optionally config.json, and the side files an architecture reads (a tokenizer), given as file name → path. Its
/// model is what the first registered architecture that recognises the weights says (<see cref="ModelArchitectures"/>);
/// none recognising them, it is still merged tensor by tensor by the data-free methods, but never run.
/// </summary>
public sealed class ModelFolder : IDisposable
{
    public const string ConfigFileName = "config.json";

    private static readonly string[] PickleExtensions = [".bin", ".pth", ".pt"];

    private readonly Dictionary<string, string> _sideFiles;

    private ModelFolder(ITensorSource weights, CheckpointFormat format, ModelSpec? spec, string? configJson, Dictionary<string, string> sideFiles,
        LoraAdapter? adapter)
    {
        Adapter = adapter;
        _sideFiles = sideFiles;
        ConfigJson = configJson;
        Weights = weights;
        Format = format;
        Spec = spec;
    }

    public ITensorSource Weights { get; }

    public CheckpointFormat Format { get; }

    /// <summary>The model the weights hold, as its architecture recognised it; null when no registered architecture does.</summary>
    public ModelSpec? Spec { get; }

    /// <summary>A PEFT LoRA adapter's folder: its config and modules; its weights are the factors (docs/algorithm.md, "LoRA adapters").</summary>
    public LoraAdapter? Adapter { get; }

    /// <summary>The layout on the wire: an adapter's, the architecture's, or <see cref="ModelArchitectures.UnknownLayout"/>.</summary>
    public string Layout => Adapter is not null ? LoraAdapter.Layout : Spec?.Layout ?? ModelArchitectures.UnknownLayout;

    public bool ConfigInferred => Spec?.ConfigInferred ?? false;

    /// <summary>config.json as uploaded (an architecture may write it back with the merged model unchanged).</summary>
    public string? ConfigJson { get; }

    /// <summary>The side files (tokenizer, settings) that came with the weights, file name → path.</summary>
    public IReadOnlyDictionary<string, string> SideFiles => _sideFiles;

    /// <summary>The width of the features the model gives its heads; null when it cannot be run.</summary>
    public int? FeatureSize => Spec?.FeatureSize;

    /// <summary>
    /// This task checkpoint's weights under its base's names: a LoRA adapter as the model it makes of the base
    /// (<see cref="LoraTaskWeights"/>); where both are one architecture's layout saved under different prefixes (a
    /// BertForSequenceClassification task, <c>bert.*</c> and <c>classifier.*</c>, beside a BertModel base), the
    /// encoder's tensors shown under the base's prefix and the head's kept; else the weights as they are
    /// (docs/algorithm.md, "Names across checkpoints").
    /// </summary>
    public ITensorSource WeightsNamedAs(ModelFolder baseFolder) => Adapter is { } adapter
        ? new LoraTaskWeights(baseFolder.Weights, adapter, Weights)
        : Spec is { } own && baseFolder.Spec is { } baseSpec && own.Architecture.Name == baseSpec.Architecture.Name && own.Layout == baseSpec.Layout
            && own.NamePrefix != baseSpec.NamePrefix
            ? RenamedTensorSource.SwapPrefix(Weights, own.NamePrefix, baseSpec.NamePrefix, own.IsClassifier)
            : Weights;

    /// <summary>
    /// Pickles a training run saves beside the weights (Hugging Face's Trainer): arguments, optimiser, scheduler and
    /// random states, never a model's state dict.
    /// </summary>
    private static readonly string[] TrainingStatePrefixes = ["training_args", "optimizer", "scheduler", "scaler", "rng_state"];

    /// <summary>
    /// Names that cannot stand in a model folder (paths, odd characters); every plain name is taken or skipped
    /// (<see cref="Classify"/>). A hidden name (.gitattributes) is plain only in a whole folder, where it is skipped;
    /// a file sent on its own under one is refused.
    /// </summary>
    public static string? FileNameProblem(string name, bool hiddenAllowed = false) =>
        name != Path.GetFileName(name) || name is "." or ".." || (name.StartsWith('.') && !hiddenAllowed) || name.Length > 200
        || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            ? $"'{name}' is not a plain file name (letters, digits, '.', '_' and '-', not starting with '.')"
            : null;

    /// <summary>
    /// What a file of a published model folder is to the service: weights, config.json, a side file some registered
    /// architecture reads, or skipped (not stored), with the reason — a repository's README.md, .gitattributes,
    /// training state, files no architecture reads (docs/api.md, "Checkpoints").
    /// </summary>
    public static (CheckpointFileRole Role, string? Reason) Classify(string name) =>
        name.StartsWith('.') ? (CheckpointFileRole.Skipped, "a hidden file (a repository's .gitattributes or .gitignore), never part of a model")
        : name == ConfigFileName ? (CheckpointFileRole.Config, null)
        : name == LoraConfig.FileName ? (CheckpointFileRole.AdapterConfig, null)
        : name == ShardedSafetensors.IndexFileName || name.EndsWith(".safetensors", StringComparison.Ordinal) ? (CheckpointFileRole.Weights, null)
        : ModelArchitectures.IsSideFile(name) ? (CheckpointFileRole.Side, null)
        : PickleExtensions.Any(e => name.EndsWith(e, StringComparison.Ordinal))
            ? TrainingStatePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))
                ? (CheckpointFileRole.Skipped, "training state saved beside the weights, not a model's state dict")
                : (CheckpointFileRole.Weights, null)
        : (CheckpointFileRole.Skipped, "no registered architecture reads it (the weights, config.json, {LoraConfig.FileName} and "
            + $"{string.Join(", ", ModelArchitectures.All.SelectMany(a => a.SideFiles).Concat(ModelArchitectures.CarriedFiles).Distinct().Order(StringComparer.Ordinal))} are read)");

    /// <summary>
    /// The files of a folder the service does not read, each with why: those <see cref="Classify"/> skips by name, and
    /// weights of the same model in a second format, as published repositories carry them (Hugging Face's
    /// model.safetensors beside pytorch_model.bin, open_clip's open_clip_model.safetensors beside its .bin, both
    /// families' files in one repository). Shards with their index win, then safetensors over pickles, then
    /// Hugging Face's names (model.safetensors, pytorch_model.bin) over others; a folder left with several weights
    /// files of one format is refused when opened.
    /// </summary>
    public static Dictionary<string, string> Skipped(IEnumerable<string> names)
    {
        var skipped = new Dictionary<string, string>(StringComparer.Ordinal);
        var weights = new List<string>();
        foreach (var name in names)
        {
            var (role, reason) = Classify(name);
            if (role == CheckpointFileRole.Skipped) skipped[name] = reason!;
            else if (role == CheckpointFileRole.Weights && name != ShardedSafetensors.IndexFileName) weights.Add(name);
        }
        if (names.Contains(ShardedSafetensors.IndexFileName)) return skipped;   // the index names its shards; a stray one is refused when opened
        var safetensors = weights.Where(w => w.EndsWith(".safetensors", StringComparison.Ordinal)).ToList();
        var chosen = safetensors.Count > 0 ? Preferred(safetensors, ShardedSafetensorsWriter.SingleFileName) : Preferred(weights, "pytorch_model.bin");
        if (chosen is null) return skipped;
        foreach (var other in weights.Where(w => w != chosen))
            skipped[other] = $"the same model's weights in another format or layout; {chosen} is read";
        return skipped;
    }

    /// <summary>The one file of several that is read: the given name, or the only one; null when that cannot be decided (refused when opened).</summary>
    private static string? Preferred(List<string> candidates, string name) =>
        candidates.Contains(name) ? name : candidates.Count == 1 ? candidates[0] : null;

    public static ModelFolder Open(IReadOnlyDictionary<string, string> files)
    {
        var problems = files.Keys.Select(n => FileNameProblem(n, hiddenAllowed: true)).OfType<string>().ToList();
        if (problems.Count > 0) throw new CheckpointFormatException(string.Join("; ", problems));
        var skipped = Skipped(files.Keys);
        files = files.Where(f => !skipped.ContainsKey(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        var sideFiles = files.Where(f => ModelArchitectures.IsSideFile(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        var (weights, format) = OpenWeights(files.Where(f => !ModelArchitectures.IsSideFile(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));
        try
        {
            var configJson = Small(files, ConfigFileName);
            if (configJson is not null) ConfigProblem(configJson);   // whatever reads it, or none: a config.json is a JSON object
            var adapter = Small(files, LoraConfig.FileName) is { } adapterJson ? LoraAdapter.Read(adapterJson, weights) : null;
            var spec = adapter is null ? ModelArchitectures.Recognise(weights, new ModelFiles(configJson, sideFiles)) : null;
            return new ModelFolder(weights, format, spec, configJson, sideFiles, adapter);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>A JSON file of the folder as text, refused past 1 MiB; null when the folder has none.</summary>
    private static string? Small(IReadOnlyDictionary<string, string> files, string name)
    {
        if (!files.TryGetValue(name, out var path)) return null;
        if (new FileInfo(path).Length > 1 << 20) throw new CheckpointFormatException($"{name} is larger than 1 MiB");
        return File.ReadAllText(path);
    }

    private static void ConfigProblem(string json)
    {
        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object) throw new CheckpointFormatException("config.json is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new CheckpointFormatException($"config.json is not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>The weights in the names the model runs on and merged models are written in (the names as they are when no architecture recognises them).</summary>
    public IModelView View() => Spec?.View(Weights) ?? new SameNames(Weights);

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
        var weights = files.Keys.Where(f => f != ConfigFileName && f != LoraConfig.FileName).ToList();
        return weights switch
        {
            [] => throw new CheckpointFormatException("no weights: expected one .safetensors file, shards with their index, or a PyTorch .bin/.pth/.pt"),
            [var one] when one.EndsWith(".safetensors", StringComparison.Ordinal) => (SafetensorsFile.Open(files[one]), CheckpointFormat.Safetensors),
            [var one] => (PickledStateDict.Open(files[one]), CheckpointFormat.PyTorch),
            _ => throw new CheckpointFormatException($"several weight files ({string.Join(", ", weights)}) without {ShardedSafetensors.IndexFileName}"),
        };
    }
}
