using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Checkpoints;

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

    private ModelFolder(ITensorSource weights, CheckpointFormat format, ModelSpec? spec, string? configJson, Dictionary<string, string> sideFiles)
    {
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

    /// <summary>The layout on the wire: the architecture's, or <see cref="ModelArchitectures.UnknownLayout"/>.</summary>
    public string Layout => Spec?.Layout ?? ModelArchitectures.UnknownLayout;

    public bool ConfigInferred => Spec?.ConfigInferred ?? false;

    /// <summary>config.json as uploaded (an architecture may write it back with the merged model unchanged).</summary>
    public string? ConfigJson { get; }

    /// <summary>The side files (tokenizer, settings) that came with the weights, file name → path.</summary>
    public IReadOnlyDictionary<string, string> SideFiles => _sideFiles;

    /// <summary>The width of the features the model gives its heads; null when it cannot be run.</summary>
    public int? FeatureSize => Spec?.FeatureSize;

    /// <summary>The names a checkpoint's files may have; anything else is refused.</summary>
    public static string? FileNameProblem(string name) =>
        name != Path.GetFileName(name) || name.StartsWith('.') || name.Length > 200 || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            ? $"'{name}' is not a plain file name (letters, digits, '.', '_' and '-')"
            : name == ConfigFileName || name == ShardedSafetensors.IndexFileName || name.EndsWith(".safetensors", StringComparison.Ordinal)
              || PickleExtensions.Any(e => name.EndsWith(e, StringComparison.Ordinal)) || ModelArchitectures.IsSideFile(name)
                ? null
                : $"'{name}' is not a checkpoint file (config.json, {ShardedSafetensors.IndexFileName}, *.safetensors, *.bin, *.pth, *.pt, "
                  + $"or a file an architecture reads: {string.Join(", ", ModelArchitectures.All.SelectMany(a => a.SideFiles).Distinct().Order(StringComparer.Ordinal))})";

    public static ModelFolder Open(IReadOnlyDictionary<string, string> files)
    {
        var problems = files.Keys.Select(FileNameProblem).OfType<string>().ToList();
        if (problems.Count > 0) throw new CheckpointFormatException(string.Join("; ", problems));
        var sideFiles = files.Where(f => ModelArchitectures.IsSideFile(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        var (weights, format) = OpenWeights(files.Where(f => !ModelArchitectures.IsSideFile(f.Key)).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal));
        try
        {
            string? configJson = null;
            if (files.TryGetValue(ConfigFileName, out var configPath))
            {
                if (new FileInfo(configPath).Length > 1 << 20) throw new CheckpointFormatException("config.json is larger than 1 MiB");
                configJson = File.ReadAllText(configPath);
            }
            var spec = ModelArchitectures.Recognise(weights, new ModelFiles(configJson, sideFiles));
            return new ModelFolder(weights, format, spec, configJson, sideFiles);
        }
        catch
        {
            weights.Dispose();
            throw;
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
        var weights = files.Keys.Where(f => f != ConfigFileName).ToList();
        return weights switch
        {
            [] => throw new CheckpointFormatException("no weights: expected one .safetensors file, shards with their index, or a PyTorch .bin/.pth/.pt"),
            [var one] when one.EndsWith(".safetensors", StringComparison.Ordinal) => (SafetensorsFile.Open(files[one]), CheckpointFormat.Safetensors),
            [var one] => (PickledStateDict.Open(files[one]), CheckpointFormat.PyTorch),
            _ => throw new CheckpointFormatException($"several weight files ({string.Join(", ", weights)}) without {ShardedSafetensors.IndexFileName}"),
        };
    }
}
