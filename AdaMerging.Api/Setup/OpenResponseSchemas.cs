using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Leaves response schemas open: the server refuses unknown fields in requests (a misspelt option must not be ignored),
/// so a schema that only requests use stays <c>additionalProperties: false</c>; one a response uses says nothing, so a
/// client that validates strictly keeps working when a later version adds a field (docs/api.md, "Compatibility").
/// </summary>
public sealed class OpenResponseSchemas : IDocumentFilter
{
    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        var schemas = swaggerDoc.Components?.Schemas;
        if (schemas is null) return;
        var inResponses = new HashSet<string>(StringComparer.Ordinal);
        foreach (var operation in (swaggerDoc.Paths ?? []).Values.SelectMany(p => p.Operations ?? []).Select(o => o.Value))
            foreach (var response in (operation.Responses ?? []).Values)
                foreach (var media in (response.Content ?? new Dictionary<string, IOpenApiMediaType>()).Values)
                    Reach(media.Schema, schemas, inResponses);
        foreach (var (id, schema) in schemas)
            if (inResponses.Contains(id) && schema is OpenApiSchema open)
            {
                open.AdditionalPropertiesAllowed = true;
                open.AdditionalProperties = null;
            }
    }

    /// <summary>Every component schema <paramref name="schema"/> refers to, directly or through others.</summary>
    private static void Reach(IOpenApiSchema? schema, IDictionary<string, IOpenApiSchema> schemas, HashSet<string> seen)
    {
        if (schema is null) return;
        if (schema is OpenApiSchemaReference reference)
        {
            if (reference.Reference.Id is { } id && seen.Add(id) && schemas.TryGetValue(id, out var target)) Reach(target, schemas, seen);
            return;
        }
        foreach (var child in (schema.Properties?.Values ?? []).Concat(schema.AllOf ?? []).Concat(schema.OneOf ?? []).Concat(schema.AnyOf ?? []))
            Reach(child, schemas, seen);
        Reach(schema.Items, schemas, seen);
        Reach(schema.AdditionalProperties, schemas, seen);
    }
}
