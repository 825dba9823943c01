using System.Text.RegularExpressions;
using AdaMerging.Domain.Merging;

namespace AdaMerging.Domain.Jobs;

/// <summary>What a client asks to merge: the method and its options, the base checkpoint and the tasks.</summary>
public sealed record MergeRequest(string Method, Guid Base, IReadOnlyList<MergeTask> Tasks, MergeOptions? Options, string? CallbackUrl = null)
{
    public const string WeightAveraging = "weight_averaging";
    public const string TaskArithmetic = "task_arithmetic";
    public const string TiesMerging = "ties";
    public const string Dare = "dare";
    public const string AdaMerging = "adamerging";

    public static IReadOnlyList<string> KnownMethods { get; } = [WeightAveraging, TaskArithmetic, TiesMerging, Dare, AdaMerging];

    /// <summary>Every problem with the request's shape, at once; empty when it is well formed.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!KnownMethods.Contains(Method))
            problems.Add($"method '{Shown(Method)}' is unknown; known: {string.Join(", ", KnownMethods)}");
        if (Base == Guid.Empty) problems.Add("base: a checkpoint id is required");
        if (Tasks is null || Tasks.Count == 0) problems.Add("tasks: at least one task is required");
        else
        {
            if (Tasks.Count > 64) problems.Add($"tasks: {Tasks.Count} tasks exceed the limit of 64");
            for (int i = 0; i < Math.Min(Tasks.Count, 64); i++)
            {
                if (Tasks[i] is not { } t) { problems.Add($"tasks[{i}]: must be an object"); continue; }
                if (t.Checkpoint == Guid.Empty) problems.Add($"tasks[{i}].checkpoint: a checkpoint id is required");
                if (string.IsNullOrWhiteSpace(t.Name)) problems.Add($"tasks[{i}].name: required");
                else if (t.Name.Length > 100) problems.Add($"tasks[{i}].name: longer than 100 characters");
                else if (t.Name.Any(c => char.IsControl(c) || c is '/' or '\\'))
                    problems.Add($"tasks[{i}].name: control characters, '/' and '\\' are not allowed");
                if (Method == AdaMerging && (t.Head is null || t.AdaptationData is null))
                    problems.Add($"tasks[{i}]: AdaMerging needs a head and adaptationData (unlabeled images) for every task");
                if (t.EvaluationData is not null && t.Head is null)
                    problems.Add($"tasks[{i}]: evaluationData needs a head to evaluate with");
            }
            foreach (var dup in Tasks.Where(t => t is not null).GroupBy(t => t.Name).Where(g => g.Count() > 1))
                problems.Add($"tasks: the name '{dup.Key}' is used {dup.Count()} times");
        }
        problems.AddRange((Options ?? new MergeOptions()).Problems());
        if (CallbackUrl is not null && (!Uri.TryCreate(CallbackUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || CallbackUrl.Length > 2000))
            problems.Add($"callbackUrl '{Shown(CallbackUrl)}' is not an absolute http(s) URL of at most 2000 characters");
        return problems;
    }

    /// <summary>A user's value as messages quote it: never more than 60 characters of it.</summary>
    public static string Shown(string? value) => value is null ? "null" : value.Length <= 60 ? value : value[..60] + $"… ({value.Length} characters)";
}

/// <summary>One task: its fine-tuned checkpoint, and optionally its head and its unlabeled and labeled data.</summary>
public sealed record MergeTask(string Name, Guid Checkpoint, Guid? Head = null, Guid? AdaptationData = null, Guid? EvaluationData = null);

/// <summary>Every option of every method; unset ones take the spec's defaults.</summary>
public sealed record MergeOptions(
    double? Lambda = null,
    double? TopK = null,
    string? TiesMerge = null,
    double? DropRate = null,
    string? DareBase = null,
    IReadOnlyList<string>? Exclude = null,
    string? Granularity = null,
    string? LayerUnit = null,
    bool? Plus = null,
    double? InitialLambda = null,
    double? LearningRate = null,
    double? Beta1 = null,
    double? Beta2 = null,
    double? Epsilon = null,
    int? Steps = null,
    int? BatchSize = null,
    long? Seed = null,
    int? EvaluationBatchSize = null,
    long? ShardBytes = null,
    string? Precision = null)
{
    public const double DefaultLambda = 0.3;

    public double LambdaOrDefault => Lambda ?? DefaultLambda;

    public double TopKOrDefault => TopK ?? 0.2;

    public string TiesMergeOrDefault => TiesMerge ?? "sum";

    public double DropRateOrDefault => DropRate ?? 0.9;

    public string DareBaseOrDefault => DareBase ?? "task_arithmetic";

    public int EvaluationBatchSizeOrDefault => EvaluationBatchSize ?? 64;

    public long ShardBytesOrDefault => ShardBytes ?? 5L << 30;

    public AdaMergingSettings ToAdaMerging()
    {
        var d = new AdaMergingSettings();
        return new AdaMergingSettings
        {
            Granularity = Granularity ?? d.Granularity,
            LayerUnit = LayerUnit ?? d.LayerUnit,
            Plus = Plus ?? d.Plus,
            TopK = TopK ?? d.TopK,
            InitialLambda = InitialLambda ?? d.InitialLambda,
            LearningRate = LearningRate ?? d.LearningRate,
            Beta1 = Beta1 ?? d.Beta1,
            Beta2 = Beta2 ?? d.Beta2,
            Epsilon = Epsilon ?? d.Epsilon,
            Steps = Steps ?? d.Steps,
            BatchSize = BatchSize ?? d.BatchSize,
            Seed = Seed ?? d.Seed,
            Precision = Precision ?? d.Precision,
        };
    }

    public IReadOnlyList<string> Problems()
    {
        var p = ToAdaMerging().Problems().Select(x => "options." + x).ToList();
        if (!double.IsFinite(LambdaOrDefault) || Math.Abs(LambdaOrDefault) > 10) p.Add($"options.lambda: {LambdaOrDefault} is outside [-10, 10]");
        if (TiesMergeOrDefault is not ("sum" or "mean")) p.Add($"options.tiesMerge '{MergeRequest.Shown(TiesMergeOrDefault)}' is not sum or mean");
        if (!(DropRateOrDefault is >= 0 and < 1)) p.Add($"options.dropRate {DropRateOrDefault} is outside [0, 1)");
        if (DareBaseOrDefault is not ("task_arithmetic" or "ties")) p.Add($"options.dareBase '{MergeRequest.Shown(DareBaseOrDefault)}' is not task_arithmetic or ties");
        if (EvaluationBatchSizeOrDefault is < 1 or > 4096) p.Add($"options.evaluationBatchSize {EvaluationBatchSizeOrDefault} is outside 1-4096");
        if (ShardBytesOrDefault < 1 << 20) p.Add($"options.shardBytes {ShardBytesOrDefault} is below 1 MiB");
        if (Exclude is { Count: > 100 }) p.Add($"options.exclude: {Exclude.Count} patterns exceed the limit of 100");
        foreach (var pattern in (Exclude ?? []).Take(100))
        {
            if (pattern is null || pattern.Length > 500)
            {
                p.Add($"options.exclude: '{MergeRequest.Shown(pattern)}' is not a pattern of 1-500 characters");
                continue;
            }
            try
            {
                _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                p.Add($"options.exclude: '{pattern}' is not a regular expression ({e.Message})");
            }
        }
        return p;
    }
}
