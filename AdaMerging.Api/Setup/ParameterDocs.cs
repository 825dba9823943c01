using System.Text.Json.Nodes;
using AdaMerging.Domain.Methods;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Says what each route and query parameter is, by name (they mean the same on every operation), and what each tag
/// groups; the lists' <c>method</c> filter names the registered methods as an extensible enum (new methods come in
/// minor versions: a client keeps unknown ones as strings).
/// </summary>
public sealed class ParameterDocs : IOperationFilter, IDocumentFilter
{
    private static readonly Dictionary<string, string> Parameters = new(StringComparer.Ordinal)
    {
        ["name"] = "A display name for the new resource (default: the kind and the upload's time)",
        ["file"] = "The file's name in the model folder when the body is one raw file (default model.safetensors)",
        ["after"] = "The previous page's lastId: the page that follows it",
        ["limit"] = "The page's size",
        ["fileName"] = "A file's name in the model folder (model.safetensors, config.json, a shard, report.json, …)",
        ["token"] = "The download link's token, as POST /merges/{id}/links gave it",
        ["status"] = "Only merges in this status: queued, running, succeeded, failed or cancelled",
        ["method"] = "Only merges of this method (a name from the merge request's method enum)",
        ["createdAfter"] = "Only merges created at or after this time (RFC 3339)",
        ["createdBefore"] = "Only merges created before this time (RFC 3339)",
        ["sha256"] = "Only those holding a file with this SHA-256 (64 hex digits): a client uploads only what is not yet stored",
    };

    private static readonly Dictionary<string, string> Tags = new(StringComparer.Ordinal)
    {
        ["API keys"] = "Keys for owners (admin keys only)",
        ["Checkpoints"] = "Model folders: a pre-trained base and the models fine-tuned from it, uploaded whole or file by file",
        ["Datasets"] = "Labelled or unlabelled examples: adaptation data for learned merges, evaluation data for the report",
        ["Heads"] = "Classification heads, uploaded or built zero-shot from class names",
        ["Merges"] = "Submit, follow, cancel and download merges, their events and their reports",
        ["Experiments"] = "Several merge configurations on one set of inputs, compared in one table",
        ["Resumable uploads"] = "tus 1.0 uploads that survive a cut connection",
        ["Webhooks"] = "The secret that signs a merge's callbacks",
    };

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var resource = context.ApiDescription.RelativePath?.Split('/')[0].TrimEnd('s') ?? "resource";
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>().Where(p => string.IsNullOrEmpty(p.Description)))
        {
            parameter.Description = parameter.Name == "id" ? $"The {(resource == "key" ? "API key" : resource)}'s id" : Parameters.GetValueOrDefault(parameter.Name ?? "");
            if (parameter is { Name: "method", In: ParameterLocation.Query, Schema: OpenApiSchema schema })
                schema.Extensions = new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal)
                {
                    ["x-extensible-enum"] = new JsonNodeExtension(new JsonArray([.. MergeMethods.All.Select(m => (JsonNode)JsonValue.Create(m.Name))])),
                };
        }
    }

    public void Apply(OpenApiDocument swaggerDoc, DocumentFilterContext context)
    {
        foreach (var tag in swaggerDoc.Tags ?? new HashSet<OpenApiTag>())
            tag.Description ??= Tags.GetValueOrDefault(tag.Name ?? "");
    }
}
