using System.Text.Json.Nodes;
using AdaMerging.Api.Endpoints;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// POST /heads reads its body itself (an upload, or JSON to build a zero-shot head), so the document is told what it
/// takes: a safetensors file raw or as multipart, or a <see cref="ZeroShotHeadRequest"/> with a worked example.
/// </summary>
public sealed class ZeroShotHeadRequestBody : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.HttpMethod != "POST" || context.ApiDescription.RelativePath?.TrimEnd('/') != "heads") return;
        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Content = new Dictionary<string, IOpenApiMediaType>
            {
                ["application/json"] = new OpenApiMediaType
                {
                    Schema = context.SchemaGenerator.GenerateSchema(typeof(ZeroShotHeadRequest), context.SchemaRepository),
                    Example = JsonNode.Parse("""{ "checkpoint": "0b0c4f2e-7d55-4d0a-9a59-0f6f1b3f7a10", "classNames": ["0", "1", "2"], "templateSet": "MNIST" }"""),
                },
                ["application/octet-stream"] = new OpenApiMediaType { Schema = binary },
                ["multipart/form-data"] = new OpenApiMediaType
                {
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Object, Properties = new Dictionary<string, IOpenApiSchema> { ["file"] = binary } },
                },
            },
        };
    }
}
