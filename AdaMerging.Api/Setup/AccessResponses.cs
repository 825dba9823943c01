using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>Documents the answers access control and quotas add: 401 everywhere a key is needed, 403 on admin endpoints, 429 on submit.</summary>
public sealed class AccessResponses : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var path = context.ApiDescription.RelativePath ?? "";
        if (path.StartsWith("health", StringComparison.Ordinal)) return;
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No API key, or one that is unknown or revoked (X-Api-Key or Authorization: Bearer)" });
        if (path.StartsWith("keys", StringComparison.Ordinal))
            operation.Responses.TryAdd("403", new OpenApiResponse { Description = "The key is not an admin key" });
        if (context.ApiDescription.HttpMethod == "POST" && path.TrimEnd('/') == "merges")
            operation.Responses.TryAdd("429", new OpenApiResponse { Description = "The owner already has the most merges queued or running that it may" });
    }
}
