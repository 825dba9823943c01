using AdaMerging.Domain.Jobs;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Infrastructure.Contract;

/// <summary>
/// What a client asks to merge (the API's wire type): the method by name, its options as JSON, the base checkpoint
/// and the tasks. The API accepts it, the queued job re-reads it, and the worker's `run` takes it with local paths.
/// </summary>
/// <param name="Method">One of the registered methods (<see cref="MergeMethods"/>).</param>
/// <param name="Options">The method's options by name; the OpenAPI document lists each with its default and range.</param>
public sealed record MergeRequest([property: Required] string Method, [property: Required] Guid Base, [property: Required] IReadOnlyList<MergeTask> Tasks,
    IReadOnlyDictionary<string, JsonElement>? Options = null, string? CallbackUrl = null, IReadOnlyList<string>? CallbackEvents = null,
    IReadOnlyDictionary<string, string>? Metadata = null)
{
    private const int MaxTasks = 64;

    /// <summary>Every problem with the request's shape and options, at once; empty when it is well formed.</summary>
    public IReadOnlyList<RequestProblem> Problems() => Check().Problems;

    /// <summary>The method and its resolved options; throws with every problem when the request is not well formed.</summary>
    public (IMergeMethod Method, MethodOptions Options) Resolve()
    {
        var (method, options, problems) = Check();
        return problems.Count == 0 ? (method!, options!) : throw new ArgumentException(string.Join("; ", problems));
    }

    /// <summary>The plan the request describes once its inputs are files; throws with every problem when it is not well formed.</summary>
    public MergePlan ToPlan(IReadOnlyDictionary<string, string> baseFiles, IReadOnlyList<PlannedTask> tasks, string baseName)
    {
        var (method, options) = Resolve();
        return new MergePlan(method, options, baseFiles, tasks, baseName);
    }

    /// <summary>Every resource the request names, with its role: the merge's input rows (<see cref="MergeInput"/>).</summary>
    public IReadOnlyList<MergeInput> Inputs(Guid mergeId) => [.. Named().Select(n => new MergeInput(mergeId, n.Id, n.Role, n.Task))];

    /// <summary>Every resource the request names: where (a JSON Pointer into it), in which role, for which task.</summary>
    public IEnumerable<(string Pointer, MergeInputRole Role, Guid Id, string? Task)> Named()
    {
        yield return (At("base"), MergeInputRole.Base, Base, null);
        for (int i = 0; i < Tasks.Count; i++)
        {
            var t = Tasks[i];
            yield return (At("tasks", i, "checkpoint"), MergeInputRole.Checkpoint, t.Checkpoint, t.Name);
            if (t.Head is { } head) yield return (At("tasks", i, "head"), MergeInputRole.Head, head, t.Name);
            if (t.AdaptationData is { } a) yield return (At("tasks", i, "adaptationData"), MergeInputRole.AdaptationData, a, t.Name);
            if (t.EvaluationData is { } e) yield return (At("tasks", i, "evaluationData"), MergeInputRole.EvaluationData, e, t.Name);
        }
        if (CoefficientsSource() is { } from) yield return (MethodOptions.At(AdaMergingMethod.CoefficientsFrom.Name), MergeInputRole.Coefficients, from, null);
    }

    /// <summary>The earlier merge whose coefficients <c>options.coefficientsFrom</c> names, when it names one.</summary>
    public Guid? CoefficientsSource() =>
        Options is { } o && o.TryGetValue(AdaMergingMethod.CoefficientsFrom.Name, out var json) && json.ValueKind == JsonValueKind.String
        && Guid.TryParse(json.GetString(), out var id) ? id : null;

    /// <summary>The request with every option of its method given, defaults filled in (as stored requests are echoed back).</summary>
    public MergeRequest WithDefaults()
    {
        var (method, options, _) = Check();
        if (method is null || options is null) return this;
        return this with
        {
            Options = options.Wire(method).OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .ToDictionary(kv => kv.Key, kv => JsonSerializer.SerializeToElement(kv.Value, JsonSerializerOptions.Web), StringComparer.Ordinal),
        };
    }

    private static string At(params object[] tokens) => RequestProblem.At(tokens);

    private (IMergeMethod? Method, MethodOptions? Options, List<RequestProblem> Problems) Check()
    {
        var problems = new List<RequestProblem>();
        var method = MergeMethods.Find(Method);
        if (method is null)
            problems.Add(new(At("method"), string.IsNullOrEmpty(Method) ? RequestProblemCode.Required : RequestProblemCode.Unknown,
                $"method '{OptionSpec.Shown(Method)}' is unknown; known: {string.Join(", ", MergeMethods.All.Select(m => m.Name))}"));
        if (Base == Guid.Empty) problems.Add(new(At("base"), RequestProblemCode.Required, "base: a checkpoint id is required"));
        TaskProblems(method, problems);
        var options = method is null ? null : MethodOptions.Parse(method, Options, problems);
        if (method is null) MethodOptions.CheckWithoutMethod(Options, problems);
        if (options is not null && CommonOptions.BatchNorm.In(options) == BatchNormStatistics.Recompute)
            foreach (var (_, i) in (Tasks ?? []).Select((t, i) => (t, i)).Where(x => x.t is { AdaptationData: null }))
                problems.Add(new(At("tasks", i, "adaptationData"), RequestProblemCode.Required,
                    $"tasks[{i}]: batchNormStatistics: recompute re-estimates the statistics on every task's adaptationData (unlabeled images)"));
        if (CallbackUrl is not null && (!Uri.TryCreate(CallbackUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || CallbackUrl.Length > 2000))
            problems.Add(new(At("callbackUrl"), RequestProblemCode.Invalid,
                $"callbackUrl '{OptionSpec.Shown(CallbackUrl)}' is not an absolute http(s) URL of at most 2000 characters"));
        problems.AddRange(Domain.Store.ResourceMetadata.Problems(Metadata));
        foreach (var (e, i) in (CallbackEvents ?? []).Select((e, i) => (e, i)).Where(x => !MergeProtocol.CallbackEvents.Contains(x.e)))
            problems.Add(new(At("callbackEvents", i), RequestProblemCode.Unknown,
                $"callbackEvents: '{OptionSpec.Shown(e)}' is not one of {string.Join(", ", MergeProtocol.CallbackEvents)}"));
        return (method, options, problems);
    }

    private void TaskProblems(IMergeMethod? method, List<RequestProblem> problems)
    {
        if (Tasks is null || Tasks.Count == 0)
        {
            problems.Add(new(At("tasks"), RequestProblemCode.Required, "tasks: at least one task is required"));
            return;
        }
        if (Tasks.Count > MaxTasks) problems.Add(new(At("tasks"), RequestProblemCode.TooMany, $"tasks: {Tasks.Count} tasks exceed the limit of {MaxTasks}"));
        for (int i = 0; i < Math.Min(Tasks.Count, MaxTasks); i++)
        {
            if (Tasks[i] is not { } t)
            {
                problems.Add(new(At("tasks", i), RequestProblemCode.Invalid, $"tasks[{i}]: must be an object"));
                continue;
            }
            if (t.Checkpoint == Guid.Empty) problems.Add(new(At("tasks", i, "checkpoint"), RequestProblemCode.Required, $"tasks[{i}].checkpoint: a checkpoint id is required"));
            var name = At("tasks", i, "name");
            if (string.IsNullOrWhiteSpace(t.Name)) problems.Add(new(name, RequestProblemCode.Required, $"tasks[{i}].name: required"));
            else if (t.Name.Length > 100) problems.Add(new(name, RequestProblemCode.Invalid, $"tasks[{i}].name: longer than 100 characters"));
            else if (t.Name.Any(c => char.IsControl(c) || c is '/' or '\\'))
                problems.Add(new(name, RequestProblemCode.Invalid, $"tasks[{i}].name: control characters, '/' and '\\' are not allowed"));
            // A head may come from the task's checkpoint (its classifier): pre-flight checks that one is there.
            if (method is { NeedsAdaptationData: true } && t.AdaptationData is null)
                problems.Add(new(At("tasks", i, "adaptationData"), RequestProblemCode.Required,
                    $"tasks[{i}]: {method.Name} needs {(method.NeedsHeads ? "a head and " : "")}adaptationData (unlabeled images) for every task"));
        }
        foreach (var dup in Tasks.Where(t => t is not null).GroupBy(t => t.Name).Where(g => g.Count() > 1))
            problems.Add(new(At("tasks", Tasks.ToList().FindLastIndex(t => t?.Name == dup.Key), "name"), RequestProblemCode.Duplicate,
                $"tasks: the name '{dup.Key}' is used {dup.Count()} times"));
    }
}

/// <summary>One task: its fine-tuned checkpoint, and optionally its head and its unlabeled and labeled data.</summary>
public sealed record MergeTask([property: Required] string Name, [property: Required] Guid Checkpoint, Guid? Head = null, Guid? AdaptationData = null,
    Guid? EvaluationData = null);
