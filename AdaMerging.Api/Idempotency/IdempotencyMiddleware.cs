using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Infrastructure.Options;
using AdaMerging.Infrastructure.Persistence;
using Microsoft.Extensions.Options;

namespace AdaMerging.Api.Idempotency;

/// <summary>
/// The Idempotency-Key header as the IETF httpapi draft describes it (docs/api.md, "Idempotency"), on the endpoints
/// marked <see cref="IdempotentAttribute"/>: the first request with a key runs and, when it succeeds, its response is
/// stored; a retry with the same key and the same request gets that response again (Idempotent-Replayed: true); the
/// same key with another request is a 422; a retry while the first still runs is a 409. Keys are per owner and expire.
/// While a request runs it holds a PostgreSQL advisory lock on its key: "in flight" holds across API hosts, and a host
/// that dies releases it, so a retry then takes the key over instead of waiting for its expiry.
/// </summary>
public sealed class IdempotencyMiddleware(RequestDelegate next)
{
    public const string Header = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";
    public const int MaxKeyLength = 255;
    private const int MaxStoredResponseBytes = 1 << 20;

    public async Task InvokeAsync(HttpContext http, DatabaseConnection database, IOptions<AdaMergingOptions> options, TimeProvider time)
    {
        var key = http.Request.Headers[Header].ToString().Trim();
        if (key.Length == 0 || http.GetEndpoint()?.Metadata.GetMetadata<IdempotentAttribute>() is null || http.User.Identity?.IsAuthenticated != true)
        {
            await next(http);
            return;
        }
        if (key.Length > MaxKeyLength || key.Any(char.IsControl))
            throw ApiProblemException.Invalid($"{Header} must be 1-{MaxKeyLength} printable characters");
        var ct = http.RequestAborted;
        var record = new IdempotencyRecord
        {
            Owner = http.User.Owner(), Key = key, Operation = Operation(http), Fingerprint = await RequestFingerprint.OfAsync(http.Request, ct),
            CreatedAt = time.GetUtcNow(), ExpiresAt = time.GetUtcNow().AddSeconds(options.Value.IdempotencyKeySeconds),
        };
        await using var held = await AdvisoryLock.TryAcquireAsync(database, AdvisoryLock.IdempotencyKey(record.Owner, key), ct)
            ?? throw new ApiProblemException(StatusCodes.Status409Conflict, "Request in progress",
                $"a request with {Header} '{key}' is still being processed; retry once it has finished") { Code = "idempotency_key_in_use" };
        var keys = new IdempotencyKeyStore(held.Connection);
        var earlier = await keys.FindAsync(record.Owner, key, record.CreatedAt, ct);
        if (earlier is not null && (earlier.Operation != record.Operation || earlier.Fingerprint != record.Fingerprint))
            throw ApiProblemException.Unprocessable("Idempotency-Key reused", $"{Header} '{key}' was used for a different request "
                + $"({earlier.Operation} at {earlier.CreatedAt:u}); use a new key for a new request", [], code: "idempotency_key_reused");
        if (earlier?.ResponseStatus is { } status)
        {
            await ReplayAsync(http, earlier, status);
            return;
        }
        await keys.StartAsync(earlier ?? record, ct); // a first attempt that died (lock free, no response) is taken over
        var original = http.Response.Body;
        await using var tee = new TeeStream(original, MaxStoredResponseBytes);
        http.Response.Body = tee;
        bool ran = false;
        try
        {
            await next(http);
            ran = true;
        }
        finally
        {
            http.Response.Body = original;
            // Only a success is remembered, and before the client receives it; a refusal (a status or an exception)
            // leaves the key free for a corrected request.
            if (ran && tee.Copy is { } captured && http.Response.StatusCode is >= 200 and < 300)
                await keys.CompleteAsync(earlier ?? record, http.Response.StatusCode, http.Response.ContentType, http.Response.Headers.Location.ToString(), captured, CancellationToken.None);
            else
                await keys.ForgetAsync(record.Owner, key, CancellationToken.None);
        }
        await tee.ReleaseAsync(http.RequestAborted);
    }

    private static string Operation(HttpContext http) =>
        $"{http.Request.Method} {(http.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? http.Request.Path}";

    private static async Task ReplayAsync(HttpContext http, IdempotencyRecord earlier, int status)
    {
        http.Response.StatusCode = status;
        http.Response.Headers[ReplayedHeader] = "true";
        if (!string.IsNullOrEmpty(earlier.ResponseLocation)) http.Response.Headers.Location = earlier.ResponseLocation;
        if (earlier.ResponseContentType is { } type) http.Response.ContentType = type;
        if (earlier.ResponseBody is { Length: > 0 } body) await http.Response.Body.WriteAsync(body, http.RequestAborted);
    }
}
