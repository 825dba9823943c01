namespace AdaMerging.Infrastructure.Persistence;

/// <summary>
/// One Idempotency-Key an owner sent (docs/api.md, "Idempotency"): what the first request was (its operation and
/// fingerprint) and, once it succeeded, its response, replayed to every retry until the key expires.
/// </summary>
public sealed class IdempotencyRecord
{
    public string Owner { get; set; } = "";

    public string Key { get; set; } = "";

    /// <summary>Method and route pattern, e.g. "POST /merges/": a key names one operation.</summary>
    public string Operation { get; set; } = "";

    /// <summary>SHA-256 (hex) over what identifies the request: its path, query, content type and body (or, for uploads, its length).</summary>
    public string Fingerprint { get; set; } = "";

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>The first request's status once it succeeded; null while it runs (or after it died, until a retry takes over).</summary>
    public int? ResponseStatus { get; set; }

    public string? ResponseContentType { get; set; }

    public string? ResponseLocation { get; set; }

    public byte[]? ResponseBody { get; set; }
}
