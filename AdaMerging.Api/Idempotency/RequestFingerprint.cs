using System.Security.Cryptography;
using System.Text;

namespace AdaMerging.Api.Idempotency;

/// <summary>
/// What makes two requests "the same" for an Idempotency-Key: path, query and content type, and the body: its bytes
/// for JSON bodies up to 1 MiB (read once, buffered, and rewound for the endpoint); for uploads, which may be many GB
/// and are streamed, its length and any Content-Digest or Repr-Digest the client sent (docs/api.md, "Idempotency").
/// </summary>
public static class RequestFingerprint
{
    private const long MaxHashedBodyBytes = 1 << 20;

    public static async Task<string> OfAsync(HttpRequest request, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string? part) => hash.AppendData(Encoding.UTF8.GetBytes((part ?? "") + "\n"));
        Add(request.Method);
        Add(request.Path);
        Add(request.QueryString.Value);
        Add(request.ContentType);
        if (HashesBody(request))
        {
            request.EnableBuffering();
            var buffer = new byte[81920];
            int read;
            while ((read = await request.Body.ReadAsync(buffer, ct)) > 0) hash.AppendData(buffer, 0, read);
            request.Body.Position = 0;
        }
        else
        {
            Add(request.ContentLength?.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Add(request.Headers["Content-Digest"]);
            Add(request.Headers["Repr-Digest"]);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// JSON bodies (and empty ones) are hashed; an upload's body is not read here at all: it may still be arriving, and
    /// the request must hold its key while it does, so that a concurrent retry sees it in flight.
    /// </summary>
    private static bool HashesBody(HttpRequest request) =>
        request.ContentLength == 0 || (request.ContentLength is null or <= MaxHashedBodyBytes
            && request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true);
}
