using System.Text.Json;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Methods;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Infrastructure.Contract;

/// <summary>
/// <c>options.coefficientsFrom</c>: an earlier merge's learned coefficients, taken from its report and put in the
/// request as <c>options.coefficients</c>, so that what runs (and what its report records) is the coefficients themselves.
/// </summary>
public static class CoefficientsReuse
{
    private static string From => AdaMergingMethod.CoefficientsFrom.Name;

    /// <summary>The request with coefficientsFrom resolved, or the problem that prevents it.</summary>
    public static async Task<(MergeRequest? Request, RequestProblem? Problem)> ResolveAsync(MergeRequest request, IQueryable<MergeJob> merges, CancellationToken ct)
    {
        if (request.Options is not { } options || !options.TryGetValue(From, out var json) || json.ValueKind != JsonValueKind.String
            || !Guid.TryParse(json.GetString(), out var id))
            return (request, null);
        var earlier = await merges.AsNoTracking().Where(m => m.Id == id).Select(m => new { m.Status, m.ReportJson }).SingleOrDefaultAsync(ct);
        var at = MethodOptions.At(From);
        if (earlier is null) return (null, new(at, RequestProblemCode.NotFound, $"options.{From}: merge {id} does not exist"));
        if (earlier.Status != MergeStatus.Succeeded || earlier.ReportJson is null)
            return (null, new(at, RequestProblemCode.Invalid,
                $"options.{From}: merge {id} is {earlier.Status.ToString().ToLowerInvariant()}; its coefficients exist once it has succeeded"));
        using var report = JsonDocument.Parse(earlier.ReportJson);
        if (!report.RootElement.TryGetProperty("coefficients", out var rows) || rows.ValueKind != JsonValueKind.Array)
            return (null, new(at, RequestProblemCode.Invalid, $"options.{From}: merge {id} learned no coefficients"));
        var resolved = options.Where(kv => kv.Key != From).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        resolved[AdaMergingMethod.Coefficients.Name] = JsonSerializer.SerializeToElement(new { layers = rows });
        return (request with { Options = resolved }, null);
    }
}
