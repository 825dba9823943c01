namespace AdaMerging.Api.Idempotency;

/// <summary>Marks an endpoint that honours the Idempotency-Key header (<see cref="IdempotencyMiddleware"/>).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class IdempotentAttribute : Attribute;

public static class IdempotencyExtensions
{
    /// <summary>A retried request with the same Idempotency-Key gets the first one's response (docs/api.md, "Idempotency").</summary>
    public static RouteHandlerBuilder WithIdempotency(this RouteHandlerBuilder builder) =>
        builder.WithMetadata(new IdempotentAttribute())
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

    /// <summary>After authorization: keys belong to the authenticated owner.</summary>
    public static WebApplication UseIdempotency(this WebApplication app)
    {
        app.UseMiddleware<IdempotencyMiddleware>();
        return app;
    }
}
