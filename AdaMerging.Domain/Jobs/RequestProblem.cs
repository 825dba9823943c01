using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Jobs;

/// <summary>
/// What is wrong with one part of a request, as a refusal's <c>errors[].code</c> names it (snake_case of the member:
/// <c>required</c>, <c>checkpoint_mismatch</c>, …). A client branches on these, never on a detail's words (docs/api.md, "Errors").
/// </summary>
public enum RequestProblemCode
{
    /// <summary>A value the request must give is missing.</summary>
    Required,

    /// <summary>A value is malformed or out of its range.</summary>
    Invalid,

    /// <summary>A name the service does not know (a method, an option, a callback event).</summary>
    Unknown,

    /// <summary>More items than the limit allows.</summary>
    TooMany,

    /// <summary>A name given more than once.</summary>
    Duplicate,

    /// <summary>Values that are each valid but cannot be given together.</summary>
    Conflicting,

    /// <summary>An id that names nothing this key may see.</summary>
    NotFound,

    /// <summary>A checkpoint still open for uploads.</summary>
    NotSealed,

    /// <summary>A fine-tuned checkpoint whose tensors do not match the base's.</summary>
    CheckpointMismatch,

    /// <summary>The base and the tasks share no floating tensor: nothing would be merged.</summary>
    NothingShared,

    /// <summary>A head whose feature size is not the model's.</summary>
    HeadMismatch,

    /// <summary>A dataset of another modality or shape than the model takes.</summary>
    DataMismatch,

    /// <summary>A label the head cannot predict.</summary>
    LabelOutOfRange,

    /// <summary>Evaluation data without labels.</summary>
    LabelsMissing,

    /// <summary>What the method cannot do with these inputs (RegMean with no observed linear layer).</summary>
    Unsupported,

    /// <summary>The merge's estimated peak memory is over the service's limit.</summary>
    OverMemoryLimit,

    /// <summary>A file name that cannot stand in a model folder, or a file that is not what it claims.</summary>
    InvalidFile,

    /// <summary>A request header is missing or malformed.</summary>
    InvalidHeader,
}

/// <summary>
/// One problem of a refused request: where it is (<see cref="Pointer"/>, a JSON Pointer into the request's body,
/// RFC 6901: <c>/tasks/0/head</c>, <c>/options/learningRate</c>; <c>""</c> the request as a whole; null when the problem
/// is not in the body: a header, a file's name), what it is (<see cref="Code"/>) and what a person reads (<see cref="Detail"/>).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "RFC 6901 and RFC 9457 call it a pointer; the wire says pointer")]
public sealed record RequestProblem(string? Pointer, RequestProblemCode Code, string Detail)
{
    /// <summary>The code as the wire spells it.</summary>
    public string WireCode => WireName.Of(Code);

    public override string ToString() => Detail;

    /// <summary>The JSON Pointer of a path into the body: <c>At("tasks", 0, "head")</c> is <c>/tasks/0/head</c>.</summary>
    public static string At(params object[] tokens) => string.Concat(tokens.Select(t => "/" + Escape(Convert.ToString(t, System.Globalization.CultureInfo.InvariantCulture)!)));

    /// <summary>Problems not located in the body (the refusal of a request's headers or files).</summary>
    public static IReadOnlyList<RequestProblem> Unplaced(RequestProblemCode code, IEnumerable<string> details) =>
        [.. details.Select(d => new RequestProblem(null, code, d))];

    // RFC 6901: '~' and '/' in a token are escaped as ~0 and ~1.
    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}
