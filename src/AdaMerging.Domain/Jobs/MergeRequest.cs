namespace AdaMerging.Domain.Jobs;

/// <summary>What a client asks to merge. Only task arithmetic exists so far; later methods add options.</summary>
public sealed record MergeRequest(string Method, Guid Base, IReadOnlyList<MergeTask> Tasks, MergeOptions? Options)
{
    public const string TaskArithmetic = "task_arithmetic";

    public static IReadOnlyList<string> KnownMethods { get; } = [TaskArithmetic];

    /// <summary>Every problem with the request's shape, at once; empty when it is well formed.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!KnownMethods.Contains(Method))
            problems.Add($"method '{Method}' is unknown; known: {string.Join(", ", KnownMethods)}");
        if (Base == Guid.Empty) problems.Add("base: a checkpoint id is required");
        if (Tasks is null || Tasks.Count == 0) problems.Add("tasks: at least one task is required");
        else
        {
            if (Tasks.Count > 64) problems.Add($"tasks: {Tasks.Count} tasks exceed the limit of 64");
            for (int i = 0; i < Tasks.Count; i++)
            {
                if (Tasks[i] is null) { problems.Add($"tasks[{i}]: must be an object"); continue; }
                if (Tasks[i].Checkpoint == Guid.Empty) problems.Add($"tasks[{i}].checkpoint: a checkpoint id is required");
                if (string.IsNullOrWhiteSpace(Tasks[i].Name)) problems.Add($"tasks[{i}].name: required");
                else if (Tasks[i].Name.Length > 100) problems.Add($"tasks[{i}].name: longer than 100 characters");
            }
            foreach (var dup in Tasks.Where(t => t is not null).GroupBy(t => t.Name).Where(g => g.Count() > 1))
                problems.Add($"tasks: the name '{dup.Key}' is used {dup.Count()} times");
        }
        var lambda = Options?.Lambda ?? MergeOptions.DefaultLambda;
        if (!double.IsFinite(lambda) || lambda < -10 || lambda > 10)
            problems.Add($"options.lambda: {lambda} is outside [-10, 10]");
        return problems;
    }
}

/// <summary>One task: its fine-tuned checkpoint, and optionally its head and its unlabeled and labeled data.</summary>
public sealed record MergeTask(string Name, Guid Checkpoint, Guid? Head = null, Guid? AdaptationData = null, Guid? EvaluationData = null);

public sealed record MergeOptions(double? Lambda)
{
    public const double DefaultLambda = 0.3;
}
