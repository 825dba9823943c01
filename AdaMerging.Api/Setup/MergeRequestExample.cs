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
            { "name": "mnist", "checkpoint": "5a3c2d1e-0f4b-4c6d-8e7f-1a2b3c4d5e6f", "head": "8e1d9c0b-2a3f-4e5d-9c8b-7a6f5e4d3c2b", "adaptationData": "c41f0e2d-6b7a-4c9e-8d1f-2e3a4b5c6d7e", "evaluationData": "d9a2b3c4-5d6e-4f7a-8b9c-0d1e2f3a4b5c" },
            { "name": "fashion", "checkpoint": "77b0a1c2-d3e4-4f56-a789-0b1c2d3e4f5a", "head": "1f9e8d7c-6b5a-4493-8281-706f5e4d3c2b", "adaptationData": "4b6a5c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d", "evaluationData": "e03c1d2e-3f4a-4b5c-8d6e-7f8a9b0c1d2e" }
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
