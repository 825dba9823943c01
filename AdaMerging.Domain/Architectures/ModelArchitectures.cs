using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Architectures.Gpt2;
using AdaMerging.Domain.Architectures.Llama;
using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// The registry of model families: one line per architecture, as <see cref="Methods.MergeMethods"/> is for methods
/// (docs/algorithm.md, "Architectures"). A checkpoint is the first registered architecture's that recognises it.
/// </summary>
public static class ModelArchitectures
{
    /// <summary>The layout of a checkpoint no registered architecture recognises: merged tensor by tensor, never run.</summary>
    public const string UnknownLayout = "unknown";

    private static readonly Lock Gate = new();

    private static IReadOnlyList<IArchitecture> _all =
    [
        new ClipVisionArchitecture(),
        new ResNetArchitecture(),
        new BertArchitecture(),
        new Gpt2Architecture(),
        new LlamaArchitecture(),
    ];

    public static IReadOnlyList<IArchitecture> All => _all;

    /// <summary>
    /// Adds an architecture from outside this assembly (an extension, or a test's own): its name and layouts must be
    /// new. Registering the same instance again does nothing, so a test fixture may call it more than once.
    /// </summary>
    public static void Register(IArchitecture architecture)
    {
        lock (Gate)
        {
            if (_all.Contains(architecture)) return;
            if (_all.Any(a => a.Name == architecture.Name)) throw new ArgumentException($"an architecture named '{architecture.Name}' is registered already");
            var taken = architecture.Layouts.Where(l => l == UnknownLayout || _all.Any(a => a.Layouts.Contains(l))).ToList();
            if (taken.Count > 0) throw new ArgumentException($"layout(s) {string.Join(", ", taken)} belong to another architecture");
            _all = [.. _all, architecture];
        }
    }

    /// <summary>The model the weights hold, by the first architecture that recognises them; null when none does.</summary>
    public static ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        foreach (var architecture in _all)
            if (architecture.Recognise(weights, files) is { } spec) return spec;
        return null;
    }

    /// <summary>The architecture a stored layout belongs to.</summary>
    public static IArchitecture? OfLayout(string? layout) => _all.FirstOrDefault(a => layout is not null && a.Layouts.Contains(layout));

    /// <summary>
    /// Files a model hub's folder carries beside any model's weights that a merged model must keep to be used as the
    /// base is (generation settings, tokenizers of every kind, chat templates): stored and copied to the merged model
    /// whether or not an architecture reads them (docs/api.md, "Checkpoints").
    /// </summary>
    public static readonly IReadOnlySet<string> CarriedFiles = new HashSet<string>(StringComparer.Ordinal)
    {
        "generation_config.json", "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "special_tokens_map.json",
        "added_tokens.json", "chat_template.jinja", "chat_template.json", "vocab.json", "merges.txt", "vocab.txt",
    };

    /// <summary>Every side file some architecture reads, and the files every model carries.</summary>
    public static bool IsSideFile(string name) => CarriedFiles.Contains(name) || _all.Any(a => a.SideFiles.Contains(name));

    /// <summary>The registered families in words, for errors that name what the service can run.</summary>
    public static string Described() => string.Join("; ", _all.Select(a => $"{a.Name} ({a.Summary})"));
}
