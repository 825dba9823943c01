using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// <c>required</c> as the C# records say it: a property is required when its type is not nullable and its constructor
/// parameter has no default (a request may leave out what has a default; a response always carries what is not
/// nullable). A nullable property that refers to another schema is wrapped so that it can say <c>nullable</c>
/// (OpenAPI 3.0 ignores siblings of <c>$ref</c>).
/// </summary>
public sealed class RecordSchemas : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema record || record.Properties is not { Count: > 0 } properties || !context.Type.IsClass) return;
        var parameters = context.Type.GetConstructors().MaxBy(c => c.GetParameters().Length)?.GetParameters()
            .ToDictionary(p => p.Name!, StringComparer.OrdinalIgnoreCase) ?? [];
        var nullability = new NullabilityInfoContext(); // not thread-safe: one per schema
        foreach (var property in context.Type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var name = property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(property.Name);
            if (!properties.TryGetValue(name, out var documented)) continue;
            var nullable = nullability.Create(property).ReadState != NullabilityState.NotNull;
            var optional = parameters.TryGetValue(property.Name, out var parameter) && parameter.HasDefaultValue;
            // An optional input (a default in its constructor) may simply be left out: it needs no nullable wrapper,
            // which generators would turn into a type of its own (Kiota's MergeRequest_options).
            if (nullable && !optional && documented is OpenApiSchemaReference reference)
                properties[name] = new OpenApiSchema
                {
                    AllOf = [reference], Description = reference.Description,
                    // the referred schema's type beside nullable: validators refuse nullable without a type
                    Type = (context.SchemaRepository.Schemas.GetValueOrDefault(reference.Reference.Id ?? "")?.Type ?? JsonSchemaType.Object) | JsonSchemaType.Null,
                };
            else if (!nullable && !optional && property.GetCustomAttribute<JsonIgnoreAttribute>() is null)
                (record.Required ??= new HashSet<string>(StringComparer.Ordinal)).Add(name);
        }
    }
}
