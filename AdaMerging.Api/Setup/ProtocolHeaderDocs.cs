using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Writes an endpoint's <see cref="DeclaredHeaders"/> into its operation: request headers as header parameters, response
/// headers on each status that carries them, and the statuses they imply (206 with 200's content, 304 and 416 without a body).
/// Every 201 and 202 names what it created in Location.
/// </summary>
public sealed class ProtocolHeaderDocs : IOperationFilter
{
    private static readonly Dictionary<int, string> Implied = new()
    {
        [StatusCodes.Status206PartialContent] = "The requested range of the file",
        [StatusCodes.Status304NotModified] = "Not modified since the ETag sent in If-None-Match",
        [StatusCodes.Status416RangeNotSatisfiable] = "The range is outside the file (Content-Range: bytes */length)",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        operation.Responses ??= new OpenApiResponses();
        foreach (var created in new[] { "201", "202" })
            if (operation.Responses.TryGetValue(created, out var r) && r is OpenApiResponse response)
                Add(response, new ProtocolHeader("Location", HeaderSide.Response, "The URL of what was created", []));
        var declared = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<DeclaredHeaders>().SelectMany(d => d.Headers).ToList();
        if (declared.Count == 0) return;
        operation.Parameters ??= [];
        foreach (var header in declared.Where(h => h.Side == HeaderSide.Request).DistinctBy(h => h.Name))
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = header.Name, In = ParameterLocation.Header, Required = header.Required, Description = header.Description, Schema = Schema(header),
            });
        foreach (var header in declared.Where(h => h.Side == HeaderSide.Response))
            foreach (var status in header.Statuses)
                Add(Response(operation.Responses, status), header);
    }

    public static void Add(OpenApiResponse response, ProtocolHeader header)
    {
        response.Headers ??= new Dictionary<string, IOpenApiHeader>(StringComparer.OrdinalIgnoreCase);
        response.Headers[header.Name] = new OpenApiHeader { Description = header.Description, Schema = Schema(header) };
    }

    private static OpenApiSchema Schema(ProtocolHeader header) =>
        header.IsNumber ? new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0" } : new OpenApiSchema { Type = JsonSchemaType.String };

    /// <summary>The operation's response for <paramref name="status"/>, added when the header implies it (a 206 shares 200's content).</summary>
    private static OpenApiResponse Response(OpenApiResponses responses, int status)
    {
        var key = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (responses.TryGetValue(key, out var existing) && existing is OpenApiResponse found) return found;
        var added = new OpenApiResponse { Description = Implied.GetValueOrDefault(status, ReasonPhrases.GetReasonPhrase(status)) };
        if (status == StatusCodes.Status206PartialContent && responses.TryGetValue("200", out var ok)) added.Content = ok.Content;
        responses[key] = added;
        return added;
    }
}
