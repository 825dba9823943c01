using AdaMerging.Api.Idempotency;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>Declares the optional Idempotency-Key header on the operations that honour it, and the Idempotent-Replayed header of a replay (docs/api.md, "Idempotency").</summary>
public sealed class IdempotencyKeyParameter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IdempotentAttribute>().Any()) return;
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = IdempotencyMiddleware.Header,
            In = ParameterLocation.Header,
            Required = false,
            Description = "A retry with the same key and request gets the first answer again (header Idempotent-Replayed: true); the same key "
                + "with another request is a 422, and while the first request still runs a 409. Keys are the caller's own and expire after 24 h.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = IdempotencyMiddleware.MaxKeyLength },
        });
        foreach (var (status, response) in operation.Responses ?? [])
            if (status.StartsWith('2') && response is OpenApiResponse success)
                ProtocolHeaderDocs.Add(success, new ProtocolHeader(IdempotencyMiddleware.ReplayedHeader, HeaderSide.Response,
                    "true when this is the stored answer to an earlier request with the same Idempotency-Key", []));
    }
}
