using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Store;

namespace AdaMerging.Api.Endpoints;

public sealed record DatasetResponse(Guid Id, string Name, string Sha256, long Bytes, DatasetFormat Format, int Count, int Channels,
    int? Height, int? Width, bool HasLabels, int? MaxLabel, IReadOnlyList<string>? ClassNames, DateTimeOffset CreatedAt,
    IReadOnlyDictionary<string, string> Metadata, DatasetModality Modality, int? FeatureSize)
{
    public static DatasetResponse From(Dataset d) => new(d.Id, d.Name, d.Sha256, d.Bytes, d.Format, d.Count, d.Channels, d.Height, d.Width,
        d.HasLabels, d.MaxLabel, d.ClassNames, d.CreatedAt, d.Metadata, d.Modality, d.FeatureSize);
}

public static class DatasetEndpoints
{
    /// <summary>Datasets as uploads (one request or resumable) make them.</summary>
    public static readonly StoredBlobResource<Dataset, DatasetInfo, DatasetResponse> Resource = new(
        "/datasets", "Datasets", "dataset", "Upload a dataset",
        "safetensors with 'pixel_values' [N, C, H, W] (uint8, or float already preprocessed) and optional int64 "
            + "'labels' [N]; or a zip of images, one folder per class or flat with an optional labels.csv (file,label). "
            + "Archives are checked entry by entry (safe paths, sizes, compression ratio) and every image is decoded once.",
            DatasetInfo.Inspect, (id, name, file, info, now) => new Dataset(id, name, file.Sha256, file.Bytes, info, now), DatasetResponse.From);

    public static WebApplication MapDatasets(this WebApplication app)
    {
        app.MapStoredBlobs(Resource);
        return app;
    }
}
