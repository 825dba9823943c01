using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>Puts a worked layer-wise AdaMerging request on POST /merges in the OpenAPI document.</summary>
public sealed class MergeRequestExample : IOperationFilter
{
    private const string Example = """
        {
          "method": "adamerging",
          "base": "0b0c4f2e-7d55-4d0a-9a59-0f6f1b3f7a10",
          "tasks": [
            { "name": "mnist", "checkpoint": "5a3c…", "head": "8e1d…", "adaptationData": "c41f…", "evaluationData": "d9a2…" },
            { "name": "fashion", "checkpoint": "77b0…", "head": "1f9e…", "adaptationData": "4b6a…", "evaluationData": "e03c…" }
          ],
          "options": {
            "granularity": "layer", "layerUnit": "tensor", "plus": false,
            "initialLambda": 0.3, "learningRate": 0.001, "steps": 500, "batchSize": 16, "seed": 0,
            "exclude": ["^visual_projection\\."]
          }
        }
        """;

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.HttpMethod != "POST" || context.ApiDescription.RelativePath?.TrimEnd('/') != "merges") return;
        if (operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true && media is OpenApiMediaType m)
            m.Example = JsonNode.Parse(Example);
    }
}
