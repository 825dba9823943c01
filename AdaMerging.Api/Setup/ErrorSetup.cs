using AdaMerging.Api.Errors;
using Microsoft.AspNetCore.Http.Json;

namespace AdaMerging.Api.Setup;

public static class ErrorSetup
{
    public static IServiceCollection AddApiErrors(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c =>
        {
            c.ProblemDetails.Extensions["traceId"] = TraceIds.Of(c.HttpContext);
            var code = c.ProblemDetails.Extensions.TryGetValue("code", out var given) && given is string s ? s : ProblemCodes.ForStatus(c.ProblemDetails.Status);
            c.ProblemDetails.Extensions["code"] = code;
            c.ProblemDetails.Type = ProblemCodes.TypePrefix + code;
            c.ProblemDetails.Detail ??= DefaultDetail(c.ProblemDetails.Status, c.HttpContext.Request);
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        // Malformed bodies and parameters throw, so they reach the one handler and say what is wrong.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<JsonOptions>(o =>
        {
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.SnakeCaseLower));
            // A misspelt option ("learningrate") must be refused, not silently ignored in favour of the default.
            o.SerializerOptions.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        });
        return services;
    }

    /// <summary>What a bare status (from routing or body binding, not from a handler) means for this request.</summary>
    private static string? DefaultDetail(int? status, HttpRequest request) => status switch
    {
        StatusCodes.Status415UnsupportedMediaType =>
            $"{request.Method} {request.Path} takes application/json; the request's Content-Type was '{request.ContentType ?? "missing"}'",
        StatusCodes.Status404NotFound => $"there is nothing at {request.Path}",
        StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not take {request.Method}",
        StatusCodes.Status401Unauthorized => "send a valid API key in the X-Api-Key header",
        _ => null,
    };

    public static WebApplication UseApiErrors(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }
}
