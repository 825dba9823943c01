using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Store;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// A page of a list, newest first. The next page is <c>?after=</c> this page's <see cref="LastId"/>; pages stay
/// stable while new items arrive (they come before the first page, never between pages).
/// </summary>
public sealed record ListPage<T>(IReadOnlyList<T> Data, bool HasMore, Guid? FirstId, Guid? LastId);

/// <summary>Keyset paging over (created, id), both descending: a row comparison in PostgreSQL, no offset scans.</summary>
public static class CursorPaging
{
    public const int DefaultLimit = 20, MaxLimit = 100;

    /// <summary>The checks of a list that still takes the deprecated ?offset= (docs/api.md, "Lists"): one form or the other, in range.</summary>
    public static void EnsureOneForm(object? after, int? offset, int limit, int maxLimit)
    {
        if (offset < 0 || limit < 1 || limit > maxLimit) throw ApiProblemException.Invalid($"offset must be ≥ 0 and limit 1-{maxLimit}");
        if (after is not null && offset is not null) throw ApiProblemException.Invalid("give after or the deprecated offset, not both");
    }

    /// <summary>
    /// A list's ?sha256= filter, lower-cased: what a client that uploads only what is not yet stored looks up by
    /// (docs/api.md, "Lists"). Null when absent; anything but 64 hex digits is a 400.
    /// </summary>
    public static string? Digest(string? sha256)
    {
        if (sha256 is null) return null;
        var digest = sha256.Trim().ToLowerInvariant();
        if (digest is not { Length: 64 } || !digest.All(char.IsAsciiHexDigitLower))
            throw ApiProblemException.Invalid("sha256 must be a SHA-256 as 64 hex digits",
                [new RequestProblem(null, RequestProblemCode.Invalid, "the sha256 query parameter must be 64 hex digits")]);
        return digest;
    }

    public static async Task<ListPage<TResponse>> PageAsync<TEntity, TResponse>(IQueryable<TEntity> visible, Guid? after, int limit,
        Func<TEntity, TResponse> respond, CancellationToken ct, int maxLimit = MaxLimit) where TEntity : class, IListed
    {
        if (limit < 1 || limit > maxLimit) throw ApiProblemException.Invalid($"limit must be 1-{maxLimit}, not {limit}");
        var query = visible;
        if (after is { } id)
        {
            var created = await visible.Where(e => e.Id == id).Select(e => (DateTimeOffset?)e.CreatedAt).SingleOrDefaultAsync(ct)
                ?? throw ApiProblemException.Invalid($"after: {id} is not in this list (deleted, or another owner's)");
            query = query.Where(e => EF.Functions.LessThan(ValueTuple.Create(e.CreatedAt, e.Id), ValueTuple.Create(created, id)));
        }
        var items = await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Take(limit + 1).ToListAsync(ct);
        var page = items.Take(limit).ToList();
        return new ListPage<TResponse>(page.Select(respond).ToList(), items.Count > limit, page.FirstOrDefault()?.Id, page.LastOrDefault()?.Id);
    }
}
