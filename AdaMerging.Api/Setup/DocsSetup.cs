namespace AdaMerging.Api.Setup;

public static class DocsSetup
{
    public static IServiceCollection AddApiDocs(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new()
            {
                Title = "AdaMerging",
                Version = "v1",
                Description = "Merge models fine-tuned from one pre-trained model: upload checkpoints, heads and datasets, submit a merge "
                    + "(weight averaging, task arithmetic, TIES, DARE, AdaMerging and AdaMerging++), poll it, download the merged model and its report.",
                Contact = new() { Name = "The AdaMerging service's operators (docs/operations.md)" },
            });
            o.AddServer(new Microsoft.OpenApi.OpenApiServer { Url = "/", Description = "The service that serves this document" });
            o.OperationFilter<MergeRequestExample>();
            o.OperationFilter<UploadRequestBody>();
            o.SchemaFilter<MergeMethodsSchema>();
            o.SchemaFilter<ProblemSchema>();
            o.SupportNonNullableReferenceTypes();
            o.OperationFilter<AccessResponses>();
            o.OperationFilter<IdempotencyKeyParameter>();
            o.OperationFilter<ResponseContents>();
            o.OperationFilter<ProtocolHeaderDocs>();
            o.OperationFilter<DeprecatedParameterDocs>();
            o.OperationFilter<ParameterDocs>();
            o.DocumentFilter<ParameterDocs>();
            o.SchemaFilter<RecordSchemas>();
            o.DocumentFilter<OpenResponseSchemas>();
            o.AddSecurityDefinition("ApiKey", new Microsoft.OpenApi.OpenApiSecurityScheme
            {
                Type = Microsoft.OpenApi.SecuritySchemeType.ApiKey,
                In = Microsoft.OpenApi.ParameterLocation.Header,
                Name = AdaMerging.Api.Access.ApiKeyAuthentication.Header,
                Description = "Every endpoint but /health/* and this document needs a key; admin endpoints need an admin key.",
            });
        });
        return services;
    }

    /// <summary>The document at /swagger/v1/swagger.json and the UI at /swagger.</summary>
    public static WebApplication MapApiDocs(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI();
        return app;
    }
}
