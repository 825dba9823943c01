using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;

namespace AdaMerging.Infrastructure.Blobs;

/// <summary>Opens stored checkpoints as model folders: each file's name in the folder over its blob's path.</summary>
public static class StoredFiles
{
    public static IReadOnlyDictionary<string, string> Paths(this BlobStore blobs, Checkpoint checkpoint) =>
        checkpoint.Files.ToDictionary(f => f.FileName, f => blobs.PathOf(f.Sha256), StringComparer.Ordinal);

    /// <summary>The paths, after checking that every file is still in the store.</summary>
    public static IReadOnlyDictionary<string, string> ExistingPaths(this BlobStore blobs, Checkpoint checkpoint)
    {
        var paths = blobs.Paths(checkpoint);
        var lost = paths.Where(p => !File.Exists(p.Value)).Select(p => p.Key).ToList();
        return lost.Count == 0 ? paths
            : throw new CheckpointFormatException($"checkpoint {checkpoint.Id} has lost its file(s) {string.Join(", ", lost)}");
    }

    public static ModelFolder OpenFolder(this BlobStore blobs, Checkpoint checkpoint) => ModelFolder.Open(blobs.ExistingPaths(checkpoint));
}
