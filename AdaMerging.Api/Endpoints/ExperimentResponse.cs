using System.Text.Json;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Contract;
using AdaMerging.Infrastructure.Reports;

namespace AdaMerging.Api.Endpoints;

/// <summary>One configuration of an experiment: its label, method and merge, and that merge's status (null once the merge was deleted).</summary>
public sealed record ExperimentRunResponse(string Label, string Method, Guid MergeId, MergeStatus? Status, string Merge);

public sealed record ExperimentLinks(string Self, string Csv, string Markdown, string Plot);

/// <param name="Tasks">The tasks' names, the comparison's columns.</param>
/// <param name="Comparison">The table so far (the baselines once some merge has succeeded); left out of lists.</param>
public sealed record ExperimentResponse(Guid Id, string Name, ExperimentStatus Status, DateTimeOffset CreatedAt, IReadOnlyList<string> Tasks,
    IReadOnlyList<ExperimentRunResponse> Runs, ExperimentComparison? Comparison, ExperimentLinks Links)
{
    /// <summary>The experiment with its merges as they are now (<paramref name="merges"/> by id; a missing one was deleted).</summary>
    public static ExperimentResponse From(Experiment e, IReadOnlyDictionary<Guid, MergeJob> merges, bool withComparison)
    {
        var self = $"/experiments/{e.Id}";
        var statuses = e.Runs.Select(r => merges.TryGetValue(r.MergeId, out var m) ? m.Status : (MergeStatus?)null).ToList();
        var tasks = merges.Values.Select(m => JsonSerializer.Deserialize<MergeRequest>(m.RequestJson, JsonSerializerOptions.Web)?.Tasks.Select(t => t.Name).ToList())
            .FirstOrDefault(t => t is not null) ?? [];
        ExperimentComparison? comparison = null;
        if (withComparison)
            comparison = ExperimentComparison.Of(tasks, [.. e.Runs.Select(r => merges.TryGetValue(r.MergeId, out var m)
                ? (r, (MergeStatus?)m.Status, m.Status == MergeStatus.Succeeded && m.ReportJson is { } json ? JsonSerializer.Deserialize<MergeReport>(json, JsonSerializerOptions.Web) : null)
                : (r, null, null))]);
        return new ExperimentResponse(e.Id, e.Name, Experiment.StatusOf(statuses), e.CreatedAt, tasks,
            [.. e.Runs.Select((r, i) => new ExperimentRunResponse(r.Label, r.Method, r.MergeId, statuses[i], $"/merges/{r.MergeId}"))], comparison,
            new ExperimentLinks(self, self + "/comparison.csv", self + "/comparison.md", self + "/comparison.png"));
    }
}
