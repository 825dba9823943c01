using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Store;
using Microsoft.AspNetCore.Http.HttpResults;

namespace AdaMerging.Api.Endpoints;

public sealed record HeadResponse(Guid Id, string Name, string Sha256, long Bytes, int Classes, int FeatureSize, bool HasBias,
    bool NormalizeFeatures, IReadOnlyList<string>? ClassNames, DateTimeOffset CreatedAt, IReadOnlyDictionary<string, string> Metadata)
{
    public static HeadResponse From(Head h) =>
        new(h.Id, h.Name, h.Sha256, h.Bytes, h.Classes, h.FeatureSize, h.HasBias, h.NormalizeFeatures, h.ClassNames, h.CreatedAt, h.Metadata);
}

/// <summary>A built-in template set: its name (as templateSet takes it) and its templates.</summary>
public sealed record TemplateSetResponse(string Name, IReadOnlyList<string> Templates);

public static class HeadEndpoints
{
    /// <summary>Heads as uploads (one request or resumable) make them.</summary>
    public static readonly StoredBlobResource<Head, HeadInfo, HeadResponse> Resource = new(
        "/heads", "Heads", "head", "Upload a classification head",
        "Safetensors with 'weight' [classes, features], optional 'bias' [classes], metadata 'normalize' "
            + "(\"true\" when features are L2-normalised first) and optional 'classes' (a JSON array of names); raw body or one multipart file. "
            + "(A JSON body here is taken as at POST /heads/zero-shot.)",
        HeadInfo.Inspect, (id, name, file, info, now) => new Head(id, name, file.Sha256, file.Bytes, info, now), HeadResponse.From,
        ZeroShotHeadBuilder.BuildAsync,
        "Build a zero-shot head from class names: a JSON body naming a sealed checkpoint with a CLIP text tower and its tokenizer files, the "
            + "class names (or a dataset whose class folders name them) and templates with {} for the name (or a built-in set, GET /heads/templates); "
            + "built as the official AdaMerging code does (docs/algorithm.md, \"Zero-shot heads\"). 422 names every problem.");

    public static WebApplication MapHeads(this WebApplication app)
    {
        var group = app.MapStoredBlobs(Resource);
        group.MapGet("/templates", () => TypedResults.Ok(TemplateSets.All.Select(s => new TemplateSetResponse(s.Key, s.Value)).ToList())).WithName("listHeadTemplates")
            .WithSummary("The built-in template sets for zero-shot heads: the official code's eight tasks and the generic one");
        return app;
    }
}
