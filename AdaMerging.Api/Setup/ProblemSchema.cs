using System.Text.Json.Nodes;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Methods.Options;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Every refusal's shape as the handler writes it (docs/api.md, "Errors"): RFC 9457's fields with <c>code</c>,
/// <c>traceId</c> and <c>errors</c>, each entry a <c>ProblemEntry</c> whose <c>code</c> is an enum of
/// <see cref="RequestProblemCode"/>, so a generated client branches on it.
/// </summary>
public sealed class ProblemSchema : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema problem) return;
        if (context.Type == typeof(ProblemEntry) && problem.Properties?.TryGetValue("code", out var c) == true && c is OpenApiSchema code)
        {
            code.Enum = [.. Enum.GetValues<RequestProblemCode>().Select(x => (JsonNode)JsonValue.Create(WireName.Of(x)))];
            code.Description = "What is wrong; branch on this, never on detail's words";
            if (problem.Properties.TryGetValue("pointer", out var p) && p is OpenApiSchema pointer)
                pointer.Description = "A JSON Pointer (RFC 6901) into the request's body; absent when the problem is in a header or a file's name";
        }
        if (context.Type != typeof(ProblemDetails) || problem.Properties is not { } properties) return;
        properties["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A stable machine-readable code; type is urn:adamerging:problem:{code}" };
        properties["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace id, to quote" };
        properties["errors"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Array,
            Description = "Every individual problem, where it is and its code",
            Items = context.SchemaGenerator.GenerateSchema(typeof(ProblemEntry), context.SchemaRepository),
        };
    }
}
