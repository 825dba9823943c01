using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Infrastructure.Contract;

/// <summary>One configuration of an experiment: a method and its options, and the label of its row (default: the method's name, numbered when repeated).</summary>
public sealed record ExperimentMethod([property: Required] string Method, IReadOnlyDictionary<string, JsonElement>? Options = null, string? Label = null);

/// <summary>
/// One set of inputs and the method configurations to compare on it (the API's wire type; docs/api.md,
/// "Experiments"): each configuration becomes an ordinary merge of the same base and tasks.
/// </summary>
public sealed record ExperimentRequest([property: Required] Guid Base, [property: Required] IReadOnlyList<MergeTask> Tasks,
    [property: Required] IReadOnlyList<ExperimentMethod> Methods, string? Name = null)
{
    public const int MaxMethods = 20;

    /// <summary>The metadata keys that tie a merge to its experiment (shown on the merge).</summary>
    public const string ExperimentKey = "experiment", LabelKey = "experimentLabel";

    /// <summary>Each configuration's label, in order: its own, else its method's name (with #2, #3… where a name repeats).</summary>
    public IReadOnlyList<string> Labels()
    {
        var methods = Methods ?? [];
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        return [.. methods.Select(m =>
        {
            if (!string.IsNullOrWhiteSpace(m?.Label)) return m.Label.Trim();
            string name = m?.Method ?? "";
            counts[name] = counts.GetValueOrDefault(name) + 1;
            return counts[name] == 1 ? name : $"{name} #{counts[name]}";
        })];
    }

    /// <summary>The merge each configuration submits, tied to experiment <paramref name="id"/> by its metadata.</summary>
    public IReadOnlyList<MergeRequest> Merges(Guid id) => [.. (Methods ?? []).Zip(Labels(), (m, label) => new MergeRequest(m.Method, Base, Tasks, m.Options,
        Metadata: new Dictionary<string, string>(StringComparer.Ordinal) { [ExperimentKey] = id.ToString(), [LabelKey] = label }))];

    /// <summary>
    /// Every problem at once: the list's own (none, too many, duplicate or overlong labels, a bad name) and each merge's,
    /// a configuration's method and options under <c>/methods/i</c>, the shared inputs' once under their own pointers.
    /// </summary>
    public IReadOnlyList<RequestProblem> Problems()
    {
        var problems = new List<RequestProblem>();
        if (Name is { Length: > 256 }) problems.Add(new(RequestProblem.At("name"), RequestProblemCode.Invalid, "name: longer than 256 characters"));
        if (Methods is null || Methods.Count == 0)
        {
            problems.Add(new(RequestProblem.At("methods"), RequestProblemCode.Required, "methods: at least one method configuration is required"));
            problems.AddRange(new MergeRequest("task_arithmetic", Base, Tasks).Problems());
            return problems;
        }
        if (Methods.Count > MaxMethods) problems.Add(new(RequestProblem.At("methods"), RequestProblemCode.TooMany, $"methods: {Methods.Count} exceed the limit of {MaxMethods}"));
        var labels = Labels();
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i].Length > 100) problems.Add(new(RequestProblem.At("methods", i, "label"), RequestProblemCode.Invalid, $"methods[{i}].label: longer than 100 characters"));
            if (labels.Take(i).Contains(labels[i], StringComparer.Ordinal))
                problems.Add(new(RequestProblem.At("methods", i, "label"), RequestProblemCode.Duplicate, $"methods[{i}].label: '{OptionSpec.Shown(labels[i])}' labels another row too"));
        }
        var shared = new HashSet<string>(StringComparer.Ordinal);
        var merges = Merges(Guid.Empty);
        for (int i = 0; i < Methods.Count; i++)
        {
            if (Methods[i] is null)
            {
                problems.Add(new(RequestProblem.At("methods", i), RequestProblemCode.Invalid, $"methods[{i}]: must be an object"));
                continue;
            }
            foreach (var p in merges[i].Problems())
            {
                if (IsConfigurations(p)) problems.Add(OfConfiguration(p, i) with { Detail = $"methods[{i}]: {p.Detail}" });
                else if (shared.Add($"{p.Pointer}|{p.Detail}")) problems.Add(p);
            }
        }
        return problems;
    }

    /// <summary>Whether a merge's problem is its configuration's own (the method or an option), not the shared inputs'.</summary>
    public static bool IsConfigurations(RequestProblem p) => p.Pointer is { } at && (at == "/method" || at.StartsWith("/options", StringComparison.Ordinal));

    /// <summary>A merge's problem as the experiment's: a configuration's own under <c>/methods/i</c>, the shared inputs' where they are.</summary>
    public static RequestProblem OfConfiguration(RequestProblem p, int i) => IsConfigurations(p) ? p with { Pointer = RequestProblem.At("methods", i) + p.Pointer } : p;
}
