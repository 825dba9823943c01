using AdaMerging.Domain.Jobs;
namespace AdaMerging.Api.Errors;

/// <summary>A refusal the API answers with a 4xx ProblemDetails; thrown by handlers, rendered by <see cref="ProblemExceptionHandler"/>.</summary>
public sealed class ApiProblemException : Exception
{
    public ApiProblemException(int status, string title, string detail, IReadOnlyList<RequestProblem>? errors = null) : base(detail)
    {
        Status = status;
        Title = title;
        Errors = errors ?? [];
    }

    public ApiProblemException() : this(StatusCodes.Status400BadRequest, "Bad request", "") { }

    public ApiProblemException(string message) : this(StatusCodes.Status400BadRequest, "Bad request", message) { }

    public ApiProblemException(string message, Exception inner) : base(message, inner)
    {
        Status = StatusCodes.Status400BadRequest;
        Title = "Bad request";
        Errors = [];
    }

    public int Status { get; }

    public string Title { get; }

    /// <summary>Every individual problem, where it is in the request and its code (the answer's <c>errors</c>).</summary>
    public IReadOnlyList<RequestProblem> Errors { get; }

    /// <summary>Headers the answer carries besides the problem (e.g. tus's Upload-Offset on a 409).</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>A finer machine-readable code than the status gives (ProblemCodes); null: the status's own.</summary>
    public string? Code { get; init; }

    public static ApiProblemException Invalid(string detail, IReadOnlyList<RequestProblem>? errors = null) =>
        new(StatusCodes.Status400BadRequest, "The request is invalid", detail, errors);

    /// <summary>A well-formed request whose inputs cannot be merged together (pre-flight): every problem named.</summary>
    public static ApiProblemException Unprocessable(string detail, IReadOnlyList<RequestProblem> errors) =>
        new(StatusCodes.Status422UnprocessableEntity, "The inputs cannot be merged", detail, errors) { Code = ProblemCodes.InputsIncompatible };

    /// <summary>A well-formed request that the stored inputs cannot satisfy (a head from a checkpoint without a text tower): every problem named.</summary>
    public static ApiProblemException Unprocessable(string title, string detail, IReadOnlyList<RequestProblem> errors, string code = ProblemCodes.HeadUnbuildable) =>
        new(StatusCodes.Status422UnprocessableEntity, title, detail, errors) { Code = code };

    public static ApiProblemException NotFound(string detail, IReadOnlyList<RequestProblem>? errors = null) =>
        new(StatusCodes.Status404NotFound, "Not found", detail, errors);

    public static ApiProblemException TooLarge(string detail, string? code = null) =>
        new(StatusCodes.Status413PayloadTooLarge, "Too large", detail) { Code = code };

    public static ApiProblemException TooMany(string detail, string? code = null) =>
        new(StatusCodes.Status429TooManyRequests, "Too many requests", detail) { Code = code };

    public static ApiProblemException Gone(string detail) =>
        new(StatusCodes.Status410Gone, "Gone", detail) { Code = "results_expired" };

    public static ApiProblemException Conflict(string detail) =>
        new(StatusCodes.Status409Conflict, "Conflict", detail);
}
