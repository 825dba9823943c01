namespace AdaMerging.Api.Setup;

/// <summary>Where a protocol header travels.</summary>
public enum HeaderSide { Request, Response }

/// <summary>
/// One header an operation reads or writes, declared where the endpoint is mapped so that the OpenAPI document says it
/// (<see cref="ProtocolHeaderDocs"/>): generated clients then expose it instead of leaving callers to read docs/api.md.
/// </summary>
/// <param name="Statuses">For a response header, the statuses that carry it; a status not yet declared is added (206, 304, 416).</param>
public sealed record ProtocolHeader(string Name, HeaderSide Side, string Description, int[] Statuses, bool IsNumber = false, bool Required = false);

/// <summary>The headers of the protocols the API speaks: conditional requests, ranges, created resources, tus (docs/api.md).</summary>
public static class ProtocolHeaders
{
    private static ProtocolHeader Response(string name, string description, params int[] statuses) => new(name, HeaderSide.Response, description, statuses);

    private static ProtocolHeader Request(string name, string description, bool isNumber = false, bool required = false) =>
        new(name, HeaderSide.Request, description, [], isNumber, required);

    private static readonly ProtocolHeader ETag = Response("ETag", "The representation's entity tag; send it back in If-None-Match", 200, 304);
    private static readonly ProtocolHeader IfNoneMatch = Request("If-None-Match", "An ETag from an earlier answer: 304 while it still holds");

    /// <summary>A status that changes: ETag and If-None-Match, 304 Not Modified.</summary>
    public static readonly ProtocolHeader[] Conditional = [ETag, IfNoneMatch];

    private static readonly ProtocolHeader IfNoneMatchFile = Request("If-None-Match", "An ETag from an earlier download: 304 Not Modified (no body) while it still holds");

    /// <summary>
    /// A stored file: ETag (its SHA-256), byte ranges to resume (206, 416), If-Range. Its 304 is told in If-None-Match's
    /// description, not as a status: Kiota makes a binary download whose operation lists a 304 return nothing.
    /// </summary>
    public static readonly ProtocolHeader[] File =
    [
        Response("ETag", "The file's SHA-256 in quotes", 200, 206),
        Response("Accept-Ranges", "bytes: a Range request resumes the download", 200, 206),
        Response("Content-Range", "bytes first-last/length on 206; bytes */length on 416", 206, 416),
        Response("Content-Disposition", "attachment; filename=… (the file's own name)", 200, 206),
        IfNoneMatchFile,
        Request("Range", "bytes=first-[last]: the part of the file to send (206); one range"),
        Request("If-Range", "The ETag the earlier part came from: the range is sent only if the file is still that one, else the whole file"),
    ];

    /// <summary>The whole merged folder as a zip streamed on the fly: a weak ETag over its files, no ranges (docs/api.md, "Downloads").</summary>
    public static readonly ProtocolHeader[] Archive =
    [
        Response("ETag", "A weak entity tag over the folder's files (the zip is made as it streams, so byte ranges are not offered)", 200),
        Response("Content-Disposition", "attachment; filename=merged-{id}.zip", 200),
        IfNoneMatchFile,
    ];

    private static ProtocolHeader TusResumable(params int[] statuses) => Response("Tus-Resumable", "The tus protocol version: 1.0.0", statuses);

    private static readonly ProtocolHeader TusRequest = Request("Tus-Resumable", "The tus protocol version the client speaks: 1.0.0", required: true);

    /// <summary>OPTIONS /uploads.</summary>
    public static readonly ProtocolHeader[] TusCapabilities =
    [
        TusResumable(204),
        Response("Tus-Version", "The tus versions the server speaks: 1.0.0", 204),
        Response("Tus-Extension", "The tus extensions offered: creation,expiration,termination", 204),
        Response("Tus-Max-Size", "The largest upload, in bytes", 204),
    ];

    /// <summary>POST /uploads (tus creation).</summary>
    public static readonly ProtocolHeader[] TusCreation =
    [
        TusRequest,
        Request("Upload-Length", "The file's size in bytes", isNumber: true, required: true),
        Request("Upload-Metadata", "Comma-separated key base64(value) pairs: checkpoint or resource (head, dataset) with name; filename; sha256", required: true),
        TusResumable(201),
        Response("Location", "The upload's URL, to PATCH and HEAD", 201),
        Response("Upload-Expires", "When an unfinished upload is removed (RFC 9110 date)", 201),
    ];

    /// <summary>HEAD /uploads/{id}.</summary>
    public static readonly ProtocolHeader[] TusOffset =
    [
        TusRequest,
        TusResumable(200),
        Response("Upload-Offset", "How many bytes the server has: resume from here", 200),
        Response("Upload-Length", "The file's declared size", 200),
        Response("Upload-Expires", "When an unfinished upload is removed (absent once complete)", 200),
        Response("Cache-Control", "no-store", 200),
    ];

    /// <summary>PATCH /uploads/{id}.</summary>
    public static readonly ProtocolHeader[] TusAppend =
    [
        TusRequest,
        Request("Upload-Offset", "The offset these bytes start at: the server's current offset (HEAD), else 409", isNumber: true, required: true),
        TusResumable(204),
        Response("Upload-Offset", "The new offset after these bytes", 204),
        Response("Upload-Length", "The file's declared size", 204),
        Response("Upload-Expires", "When an unfinished upload is removed (absent once complete)", 204),
    ];

    /// <summary>DELETE /uploads/{id}.</summary>
    public static readonly ProtocolHeader[] TusTermination = [TusRequest, TusResumable(204)];

    /// <summary>The event stream: resume after the last event seen.</summary>
    public static readonly ProtocolHeader[] EventStream =
        [Request("Last-Event-ID", "The id of the last event received: the stream resumes after it (as ?after= does)", isNumber: true)];

    public static RouteHandlerBuilder WithHeaders(this RouteHandlerBuilder builder, params ProtocolHeader[] headers) =>
        builder.WithMetadata(new DeclaredHeaders(headers));
}

/// <summary>The endpoint metadata <see cref="ProtocolHeaders.WithHeaders"/> adds.</summary>
public sealed record DeclaredHeaders(IReadOnlyList<ProtocolHeader> Headers);
