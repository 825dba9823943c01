using AdaMerging.Domain.Jobs;
using System.Globalization;
using System.Text;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;

namespace AdaMerging.Api.Endpoints;

/// <summary>The upload a creation request declares, from its tus headers.</summary>
public sealed record DeclaredUpload(UploadTarget Target, Guid? CheckpointId, string? ResourceName, string FileName, long Length, string Sha256);

/// <summary>An upload's state as JSON (GET /uploads/{id}); tus clients read the same from HEAD's headers.</summary>
/// <param name="Target">checkpoint (a file of <see cref="Checkpoint"/>), head or dataset.</param>
/// <param name="Resource">Once a head's or dataset's upload is complete: the new resource's path (/heads/{id}, /datasets/{id}).</param>
public sealed record ResumableUploadResponse(Guid Id, UploadTarget Target, Guid? Checkpoint, string FileName, long Length, long Offset, string ExpectedSha256,
    bool Complete, bool Expired, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, string? Resource)
{
    public static ResumableUploadResponse From(ResumableUpload u, long offset, bool expired = false) =>
        new(u.Id, u.Target, u.CheckpointId, u.FileName, u.Length, offset, u.ExpectedSha256 ?? "", u.Complete, expired, u.CreatedAt, u.ExpiresAt,
            u.ResourceId is { } id ? $"/{u.Target.ToString().ToLowerInvariant()}s/{id}" : null);
}

/// <summary>Reads and writes the tus 1.0 headers (docs/api.md, "Resumable uploads"); every problem is named at once.</summary>
public static class ResumableUploadHeaders
{
    public static DeclaredUpload Creation(HttpRequest request)
    {
        var problems = new List<string>();
        if (request.Headers.ContainsKey("Upload-Defer-Length")) problems.Add("Upload-Defer-Length is not supported: declare Upload-Length");
        if (!long.TryParse(request.Headers["Upload-Length"], NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            problems.Add("Upload-Length must be the file's size in bytes (a non-negative integer)");
        var metadata = Metadata(request.Headers["Upload-Metadata"].ToString(), problems);
        var (target, checkpoint, resourceName) = Target(metadata, problems);
        if (!metadata.TryGetValue("filename", out var fileName) || fileName.Length == 0)
            problems.Add("Upload-Metadata needs filename: the file's name in the model folder, base64-encoded");
        else if (ModelFolder.FileNameProblem(fileName) is { } nameProblem) problems.Add(nameProblem);
        else if (target == UploadTarget.Checkpoint && ModelFolder.Classify(fileName) is (CheckpointFileRole.Skipped, var reason))
            problems.Add($"'{fileName}' is not stored with a checkpoint: {reason}; upload only the files it lists");
        var sha = metadata.GetValueOrDefault("sha256")?.Trim().ToLowerInvariant();
        if (sha is not { Length: 64 } || !sha.All(char.IsAsciiHexDigitLower))
            problems.Add("Upload-Metadata needs sha256: the file's SHA-256 as 64 hex digits, base64-encoded (it is checked when the last byte arrives)");
        if (problems.Count > 0)
            throw ApiProblemException.Invalid($"the upload cannot be created: {problems.Count} problem(s)", RequestProblem.Unplaced(RequestProblemCode.InvalidHeader, problems));
        return new DeclaredUpload(target, checkpoint, resourceName, fileName!, length, sha!);
    }

    /// <summary>Where the file goes: checkpoint (an open checkpoint's id), or resource head|dataset with an optional name.</summary>
    private static (UploadTarget Target, Guid? Checkpoint, string? Name) Target(Dictionary<string, string> metadata, List<string> problems)
    {
        var hasCheckpoint = metadata.TryGetValue("checkpoint", out var checkpointText);
        var hasResource = metadata.TryGetValue("resource", out var resource);
        if (hasCheckpoint && hasResource) problems.Add("Upload-Metadata names both checkpoint and resource: a file goes into a checkpoint or becomes a head or dataset");
        else if (hasResource)
        {
            if (resource is "head" or "dataset")
                return (resource == "head" ? UploadTarget.Head : UploadTarget.Dataset, null, metadata.GetValueOrDefault("name"));
            problems.Add($"Upload-Metadata's resource must be head or dataset, not '{resource}'");
        }
        else if (!hasCheckpoint || !Guid.TryParse(checkpointText, out var checkpoint))
            problems.Add("Upload-Metadata needs checkpoint (the id of an open checkpoint, POST /checkpoints/open) or resource (head or dataset), base64-encoded");
        else return (UploadTarget.Checkpoint, checkpoint, null);
        return (UploadTarget.Checkpoint, null, null);
    }

    /// <summary>tus Upload-Metadata: comma-separated "key base64value" pairs (a value may be absent).</summary>
    private static Dictionary<string, string> Metadata(string header, List<string> problems)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in header.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split(' ', 2, StringSplitOptions.TrimEntries);
            try
            {
                values[parts[0]] = parts.Length == 2 ? Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])) : "";
            }
            catch (FormatException)
            {
                problems.Add($"Upload-Metadata's value of '{parts[0]}' is not base64");
            }
        }
        return values;
    }

    /// <summary>HEAD's answer: the offset to resume from, the length, and while unfinished when it expires.</summary>
    public static void Describe(HttpResponse response, ResumableUpload upload, long offset)
    {
        response.Headers["Upload-Offset"] = offset.ToString(CultureInfo.InvariantCulture);
        response.Headers["Upload-Length"] = upload.Length.ToString(CultureInfo.InvariantCulture);
        response.Headers.CacheControl = "no-store";
        if (!upload.Complete) response.Headers["Upload-Expires"] = upload.ExpiresAt.ToString("r", CultureInfo.InvariantCulture);
    }
}
