using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Gives a schema to every response that declares a media type but no body type (downloads, CSV, Markdown, the event
/// stream): a file is <c>string/binary</c>, text a <c>string</c>, so that generators return a stream or text rather
/// than nothing (openapi-typescript's <c>never</c>, NSwag's void).
/// </summary>
public sealed class ResponseContents : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses is null) return;
        // The endpoint's own metadata: the API explorer drops the media types of a response without a body type.
        foreach (var declared in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IProducesResponseTypeMetadata>())
        {
            if (declared.Type is not null && declared.Type != typeof(void)) continue;
            var key = declared.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!operation.Responses.TryGetValue(key, out var found) || found is not OpenApiResponse response) continue;
            var types = declared.ContentTypes.Where(t => !string.IsNullOrEmpty(t)).ToList();
            if (types.Count == 0) continue;
            response.Content ??= new Dictionary<string, IOpenApiMediaType>(StringComparer.Ordinal);
            foreach (var type in types) response.Content.TryAdd(type, new OpenApiMediaType { Schema = SchemaOf(type) });
        }
    }

    public static OpenApiSchema SchemaOf(string mediaType) => mediaType.StartsWith("text/", StringComparison.Ordinal)
        ? new OpenApiSchema { Type = JsonSchemaType.String, Description = mediaType == "text/event-stream" ? "Server-sent events (docs/api.md, \"Events\")" : null }
        : new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
}
