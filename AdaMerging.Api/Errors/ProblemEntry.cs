using System.Text.Json.Serialization;
using AdaMerging.Domain.Jobs;

namespace AdaMerging.Api.Errors;

/// <summary>
/// One entry of a refusal's <c>errors</c>: <c>pointer</c> (a JSON Pointer into the request's body, RFC 6901; absent when
/// the problem is in a header or a file's name), <c>code</c> (<see cref="RequestProblemCode"/> in snake_case) and
/// <c>detail</c> for people (docs/api.md, "Errors").
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "RFC 6901 and RFC 9457 call it a pointer")]
public sealed record ProblemEntry(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Pointer,
    string Code,
    string Detail)
{
    public static ProblemEntry Of(RequestProblem problem) => new(problem.Pointer, problem.WireCode, problem.Detail);
}
