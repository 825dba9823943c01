using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>Query parameters an endpoint still takes for one release (docs/api.md, "Lists"), named where it is mapped.</summary>
public sealed record DeprecatedParameters(string Why, params string[] Names);

/// <summary>Marks the <see cref="DeprecatedParameters"/> deprecated in the document, with why, so generators flag their use.</summary>
public sealed class DeprecatedParameterDocs : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var deprecated in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<DeprecatedParameters>())
            foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => deprecated.Names.Contains(p.Name)))
            {
                parameter.Deprecated = true;
                parameter.Description = deprecated.Why;
            }
    }
}
