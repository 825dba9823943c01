using AdaMerging.Api.Errors;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Store;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Blobs;
using TorchSharp;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// Checks a checkpoint's files as a whole and describes them. A PyTorch pickle is converted to model.safetensors
/// once, here, so every later read (listing, pre-flight, merges) is lazy and header-based, and no pickle is ever
/// unpickled again.
/// </summary>
public static class CheckpointSealing
{
    /// <returns>The stored files the sealed checkpoint does not read (weights of the same model in a second format), now removed from it.</returns>
    public static async Task<IReadOnlyList<SkippedFile>> SealAsync(Checkpoint checkpoint, IReadOnlyDictionary<string, string> paths, BlobStore blobs,
        TimeProvider time, CancellationToken ct)
    {
        var unread = SkippedFile.Of(paths.Keys);
        string? converted = null;
        try
        {
            CheckpointDescription description;
            try
            {
                using var folder = ModelFolder.Open(paths);
                folder.Spec?.Verify(folder); // side files its architecture reads (a tokenizer) must be usable, or the upload is refused now
                if (folder.Format == CheckpointFormat.PyTorch) converted = ToSafetensors(folder.Weights, blobs);
                var stored = converted is not null ? [converted] : paths.Where(p => p.Key.EndsWith(".safetensors", StringComparison.Ordinal)).Select(p => p.Value);
                description = CheckpointDescription.Of(folder, stored.SelectMany(p => NonFiniteScan.Find(p)).Take(20).ToList());
            }
            catch (Exception e) when (e is CheckpointFormatException or SafetensorsFormatException)
            {
                throw ApiProblemException.Invalid($"checkpoint '{checkpoint.Name}' cannot be sealed: {e.Message}");
            }
            if (converted is not null)
            {
                var pickle = checkpoint.Files.Single(f => ModelFolder.Classify(f.FileName).Role == CheckpointFileRole.Weights && unread.All(u => u.FileName != f.FileName));
                var (sha, bytes) = await blobs.ImportAsync(converted, ct);
                checkpoint.RemoveFile(pickle.FileName);
                checkpoint.PutFile(new CheckpointFile(ShardedSafetensorsWriter.SingleFileName, sha, bytes));
            }
            foreach (var file in unread.Where(u => checkpoint.Files.Any(f => f.FileName == u.FileName))) checkpoint.RemoveFile(file.FileName);
            checkpoint.Seal(description, time.GetUtcNow());
            return unread;
        }
        finally
        {
            if (converted is not null) File.Delete(converted); // gone already once imported
        }
    }

    /// <summary>Checks one file on its own as it arrives: its name, and a safetensors file's header and tensor count.</summary>
    public static void CheckFile(string fileName, string path, UploadLimits limits)
    {
        if (ModelFolder.FileNameProblem(fileName) is { } problem) throw ApiProblemException.Invalid(problem);
        if (!fileName.EndsWith(".safetensors", StringComparison.Ordinal)) return;
        try
        {
            var header = SafetensorsHeader.Read(path, limits.MaxHeaderBytes);
            if (header.Tensors.Count > limits.MaxTensorCount)
                throw ApiProblemException.Invalid($"'{fileName}' has {header.Tensors.Count} tensors, over the limit of {limits.MaxTensorCount}");
        }
        catch (SafetensorsFormatException e)
        {
            throw ApiProblemException.Invalid($"'{fileName}' is not a valid safetensors file: {e.Message}");
        }
    }

    private static string ToSafetensors(ITensorSource weights, BlobStore blobs)
    {
        var path = blobs.NewTempPath(".safetensors");
        using var writer = new SafetensorsWriter(path, weights.Tensors.Select(t => (t.Name, t.DType, t.Shape)).ToList());
        foreach (var t in weights.Tensors)
        {
            using var scope = torch.NewDisposeScope();
            writer.Write(t.Name, weights.Read(t.Name));
        }
        writer.Commit();
        return path;
    }
}
