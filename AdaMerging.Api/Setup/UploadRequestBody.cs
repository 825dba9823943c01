using System.Text.Json.Nodes;
using AdaMerging.Api.Endpoints;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// Marks an endpoint that reads its body itself (an upload, streamed, never bound; or the zero-shot head JSON), so the
/// OpenAPI document can still say what it takes: the raw file and multipart file parts, or the JSON request.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class UploadBodyAttribute(bool multipart, bool severalFiles = false, bool zeroShotJson = false) : Attribute
{
    public bool Multipart { get; } = multipart;

    public bool SeveralFiles { get; } = severalFiles;

    public bool ZeroShotJson { get; } = zeroShotJson;
}

public static class UploadBodyExtensions
{
    public static RouteHandlerBuilder WithUploadBody(this RouteHandlerBuilder builder, bool multipart = true, bool severalFiles = false, bool zeroShotJson = false) =>
        builder.WithMetadata(new UploadBodyAttribute(multipart, severalFiles, zeroShotJson));
}

/// <summary>Declares the request bodies of <see cref="UploadBodyAttribute"/> endpoints (binary for generators: a stream).</summary>
public sealed class UploadRequestBody : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<UploadBodyAttribute>().FirstOrDefault() is not { } upload) return;
        var binary = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
        var content = new Dictionary<string, IOpenApiMediaType>();
        if (upload.ZeroShotJson)
            content["application/json"] = new OpenApiMediaType
            {
                Schema = context.SchemaGenerator.GenerateSchema(typeof(ZeroShotHeadRequest), context.SchemaRepository),
                Example = JsonNode.Parse("""{ "checkpoint": "0b0c4f2e-7d55-4d0a-9a59-0f6f1b3f7a10", "classNames": ["0", "1", "2"], "templateSet": "MNIST" }"""),
            };
        else content["application/octet-stream"] = new OpenApiMediaType { Schema = binary };
        if (upload.Multipart && !upload.ZeroShotJson)
            content["multipart/form-data"] = new OpenApiMediaType
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    // The server reads every file part whatever its field is called; "files" for a folder, so that no
                    // generator meets two parameters named file (the query's ?file= and the form's).
                    Required = new HashSet<string> { Field(upload) },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        [Field(upload)] = upload.SeveralFiles ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = binary } : binary,
                    },
                },
            };
        operation.RequestBody = new OpenApiRequestBody { Required = true, Content = content };
    }

    private static string Field(UploadBodyAttribute upload) => upload.SeveralFiles ? "files" : "file";
}
