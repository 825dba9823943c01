using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// What every keyed operation shares, declared on each so that generated clients know it: the API-key security
/// requirement, 401 (no or bad key), 403 on admin endpoints, 429 (the per-key rate limit, or on submit the owner's
/// merge quota) with Retry-After, and 503 (the database is unreachable), each a problem document.
/// </summary>
public sealed class AccessResponses : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any()) return;
        var path = context.ApiDescription.RelativePath ?? "";
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiKey", context.Document)] = [] }];
        operation.Responses ??= new OpenApiResponses();
        var problem = new Dictionary<string, IOpenApiMediaType>
        {
            ["application/problem+json"] = new OpenApiMediaType { Schema = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository) },
        };
        OpenApiResponse Problem(string description) => new() { Description = description, Content = problem };
        operation.Responses.TryAdd("401", Problem("No API key, or one that is unknown or revoked (X-Api-Key or Authorization: Bearer)"));
        if (path.StartsWith("keys", StringComparison.Ordinal))
            operation.Responses.TryAdd("403", Problem("The key is not an admin key"));
        var tooMany = Problem(context.ApiDescription.HttpMethod == "POST" && path.TrimEnd('/') == "merges"
            ? "The key's request rate is exceeded, or the owner already has the most merges queued or running that it may; Retry-After says when to retry"
            : "The key's request rate is exceeded; Retry-After says when to retry");
        tooMany.Headers = new Dictionary<string, IOpenApiHeader>
        {
            ["Retry-After"] = new OpenApiHeader { Description = "Seconds to wait", Schema = new OpenApiSchema { Type = JsonSchemaType.Integer } },
        };
        operation.Responses["429"] = tooMany;
        operation.Responses.TryAdd("503", Problem("The database cannot be reached; nothing was changed, retry shortly (Retry-After)"));
    }
}
