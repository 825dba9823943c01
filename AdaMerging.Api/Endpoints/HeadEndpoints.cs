using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Store;

namespace AdaMerging.Api.Endpoints;

public sealed record HeadResponse(Guid Id, string Name, string Sha256, long Bytes, int Classes, int FeatureSize, bool HasBias,
    bool NormalizeFeatures, IReadOnlyList<string>? ClassNames, DateTimeOffset CreatedAt)
{
    public static HeadResponse From(Head h) =>
        new(h.Id, h.Name, h.Sha256, h.Bytes, h.Classes, h.FeatureSize, h.HasBias, h.NormalizeFeatures, h.ClassNames, h.CreatedAt);
}

public static class HeadEndpoints
{
    public static WebApplication MapHeads(this WebApplication app) => app.MapStoredBlobs(new StoredBlobResource<Head, HeadInfo, HeadResponse>(
        "/heads", "Heads", "head", "Upload a classification head",
        "safetensors with 'weight' [classes, features], optional 'bias' [classes], metadata 'normalize' "
            + "(\"true\" when features are L2-normalised first) and optional 'classes' (a JSON array of names). Raw body or one multipart file.",
        HeadInfo.Inspect, (id, name, file, info, now) => new Head(id, name, file.Blob.Sha256, file.Blob.Bytes, info, now), HeadResponse.From));
}
