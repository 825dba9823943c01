using System.Security.Claims;
using AdaMerging.Api.Access;
using AdaMerging.Infrastructure.Jobs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AdaMerging.Api.Endpoints;

/// <summary>The caller's Standard Webhooks secret, for verifying the callbacks of their merges.</summary>
public sealed record WebhookSecretResponse(string Secret, IReadOnlyList<string> Events, string SignatureScheme);

public static class WebhookEndpoints
{
    public static WebApplication MapWebhooks(this WebApplication app)
    {
        app.MapGroup("/webhooks").WithTags("Webhooks").MapGet("/secret", (ClaimsPrincipal user, WebhookSecrets secrets) =>
                TypedResults.Ok(new WebhookSecretResponse(secrets.For(user.Owner()), AdaMerging.Domain.Jobs.MergeProtocol.CallbackEvents,
                    "Standard Webhooks v1: webhook-signature = v1,base64(HMAC-SHA256(secret, webhook-id.webhook-timestamp.body))")))
            .WithName("getWebhookSecret")
            .WithSummary("The secret that signs this owner's callbacks (webhook-id, webhook-timestamp, webhook-signature), and the events a merge's callbackEvents may name");
        return app;
    }
}
