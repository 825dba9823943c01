using System.Globalization;
using System.Text;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;

namespace AdaMerging.Infrastructure.Reports;

/// <summary>What an experiment's table compares: top-1 accuracy (classifier tasks, higher is better) or completion perplexity (language-model tasks, lower is better).</summary>
public enum ComparisonMetric
{
    Accuracy,
    Perplexity,
}

/// <summary>
/// One row of an experiment's table: a baseline (pre-trained, individual, task arithmetic) or one configuration's
/// merged model, per task and on average; a configuration's merge and evaluation seconds; empty cells where not measured.
/// </summary>
public sealed record ComparisonRow(string Label, string? Method, Guid? MergeId, MergeStatus? Status, IReadOnlyList<double?> Tasks, double? Average,
    double? MergeSeconds, double? EvaluateSeconds);

/// <summary>An experiment's comparison (docs/api.md, "Experiments"): the baselines once, then each configuration, in the request's order.</summary>
public sealed record ExperimentComparison(ComparisonMetric Metric, IReadOnlyList<string> Tasks, IReadOnlyList<ComparisonRow> Rows)
{
    /// <summary>The table from the runs' reports; the baselines from the first report that has them (they are the same inputs' in every run).</summary>
    public static ExperimentComparison Of(IReadOnlyList<string> tasks, IReadOnlyList<(ExperimentRun Run, MergeStatus? Status, MergeReport? Report)> runs)
    {
        var first = runs.Select(r => r.Report).FirstOrDefault(r => r is not null && (r.Accuracy.Count > 0 || r.Completions is { Count: > 0 }));
        var metric = first?.Completions is { Count: > 0 } ? ComparisonMetric.Perplexity : ComparisonMetric.Accuracy;
        var rows = new List<ComparisonRow>();
        if (first is not null)
        {
            rows.Add(Baseline("pre-trained", first, metric, tasks, c => c.Base, a => a.Base));
            rows.Add(Baseline("individual (fine-tuned)", first, metric, tasks, c => c.Individual, a => a.Individual));
            rows.Add(Baseline("task arithmetic (λ 0.3)", first, metric, tasks, c => c.TaskArithmetic, a => a.TaskArithmetic));
        }
        foreach (var (run, status, report) in runs)
        {
            List<double?> values = report is null ? [.. tasks.Select(_ => (double?)null)] : Values(report, metric, tasks, c => c.Merged, a => a.Merged);
            rows.Add(new ComparisonRow(run.Label, run.Method, run.MergeId, status, values, Mean(values), Seconds(report, MergePhase.Merge), Seconds(report, MergePhase.Evaluate)));
        }
        return new ExperimentComparison(metric, tasks, rows);
    }

    private static ComparisonRow Baseline(string label, MergeReport report, ComparisonMetric metric, IReadOnlyList<string> tasks,
        Func<TaskCompletions, CompletionQuality?> completion, Func<TaskAccuracy, double?> accuracy)
    {
        var values = Values(report, metric, tasks, completion, accuracy);
        return new ComparisonRow(label, null, null, null, values, Mean(values), null, null);
    }

    private static List<double?> Values(MergeReport report, ComparisonMetric metric, IReadOnlyList<string> tasks,
        Func<TaskCompletions, CompletionQuality?> completion, Func<TaskAccuracy, double?> accuracy) => metric == ComparisonMetric.Perplexity
        ? [.. tasks.Select(t => report.Completions?.FirstOrDefault(c => c.Task == t) is { } c ? completion(c)?.Perplexity : null)]
        : [.. tasks.Select(t => report.Accuracy.FirstOrDefault(a => a.Task == t) is { } a ? accuracy(a) : null)];

    /// <summary>The mean over the measured tasks; null when a task was not measured (a partial mean would not compare with the others).</summary>
    private static double? Mean(List<double?> values) => values.Count > 0 && values.All(v => v is not null) ? values.Average() : null;

    private static double? Seconds(MergeReport? report, MergePhase phase) =>
        report?.PhaseSeconds.TryGetValue(phase.Wire(), out var s) == true ? s : null;

    /// <summary>The table as CSV: a row per line, the task columns and the average in the metric's own unit (accuracy as a fraction).</summary>
    public string Csv()
    {
        var csv = new StringBuilder("row,method,merge_id,status," + string.Join(',', Tasks.Select(Field)) + ",average,merge_seconds,evaluate_seconds\n");
        foreach (var r in Rows)
            csv.AppendJoin(',', [Field(r.Label), r.Method ?? "", r.MergeId?.ToString() ?? "", r.Status?.ToString().ToLowerInvariant() ?? "",
                .. r.Tasks.Select(Number), Number(r.Average), Number(r.MergeSeconds), Number(r.EvaluateSeconds)]).Append('\n');
        return csv.ToString();
    }

    /// <summary>The table as Markdown: accuracy in percent with one decimal, perplexity with two; seconds with one.</summary>
    public string Markdown(string title)
    {
        string Cell(double? v) => v is not { } x ? "" : Metric == ComparisonMetric.Accuracy
            ? (100 * x).ToString("F1", CultureInfo.InvariantCulture) : x.ToString("F2", CultureInfo.InvariantCulture);
        string Time(double? v) => v?.ToString("F1", CultureInfo.InvariantCulture) ?? "";
        var md = new StringBuilder($"# {title}\n\n{(Metric == ComparisonMetric.Accuracy ? "Top-1 accuracy (%)" : "Completion perplexity (lower is better)")} per task.\n\n");
        md.Append("| row | ").AppendJoin(" | ", Tasks.Select(Escape)).Append(" | average | merge (s) | evaluate (s) |\n|---|")
            .Append(string.Concat(Enumerable.Repeat("---:|", Tasks.Count + 3))).Append('\n');
        foreach (var r in Rows)
            md.Append("| ").Append(Escape(r.Label)).Append(r.Status is { } s && s != MergeStatus.Succeeded ? $" ({s.ToString().ToLowerInvariant()})" : "").Append(" | ")
                .AppendJoin(" | ", r.Tasks.Select(Cell)).Append(" | ").Append(Cell(r.Average)).Append(" | ").Append(Time(r.MergeSeconds)).Append(" | ")
                .Append(Time(r.EvaluateSeconds)).Append(" |\n");
        return md.ToString();
    }

    private static string Number(double? v) => v?.ToString("R", CultureInfo.InvariantCulture) ?? "";

    private static string Field(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s;

    private static string Escape(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
}
