using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// Writes the merged model as a folder: every tensor of the base in its order and dtype, merged ones replaced, the
/// rest (integer buffers, excluded tensors, tensors the tasks lack such as a text tower) copied; sharded past the shard
/// size. The base's architecture names the tensors and writes config.json (<see cref="Architectures.ModelSpec.View"/>,
/// <see cref="Architectures.ModelSpec.MergedConfigJson"/>): a CLIP encoder comes out in Hugging Face layout whatever its
/// input layout (an open_clip base is mapped), a full CLIP as a full Hugging Face CLIP with its CLIPConfig and the
/// base's tokenizer files, so it can classify zero-shot as it is; a base no architecture recognises comes out with
/// its own names and its config.json as uploaded.
/// </summary>
public static class MergedModelWriter
{
    /// <remarks>Cancelled between tensors, the writer is disposed uncommitted: nothing it started is left visible.</remarks>
    public static IReadOnlyList<string> Write(string directory, ModelFolder baseFolder, IReadOnlyDictionary<string, Tensor> merged, long shardBytes,
        CancellationToken ct = default)
    {
        using var view = baseFolder.View();
        merged = view.Map(merged);
        return Write(directory, baseFolder, view, (writer, t) =>
        {
            using var scope = NewDisposeScope();
            writer.Write(t.Name, merged.TryGetValue(t.Name, out var m) ? m.to_type(t.DType.TorchType!.Value).contiguous().cpu() : view.Read(t.Name));
        }, shardBytes, ct);
    }

    /// <summary>
    /// The folder with each of the view's tensors written by <paramref name="write"/> in order (a streamed merge writes
    /// a merged tensor as its stretches are merged), then config.json and the base's side files.
    /// </summary>
    public static IReadOnlyList<string> Write(string directory, ModelFolder baseFolder, Architectures.IModelView view,
        Action<ShardedSafetensorsWriter, TensorInfo> write, long shardBytes, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        using var _ = no_grad();
        var layout = view.Tensors.Select(t => (t.Name, t.DType, t.Shape)).ToList();
        using (var writer = new ShardedSafetensorsWriter(directory, layout, shardBytes))
        {
            foreach (var t in view.Tensors)
            {
                ct.ThrowIfCancellationRequested();
                write(writer, t);
            }
            writer.Commit();
            var files = writer.FileNames.ToList();
            if ((baseFolder.Spec?.MergedConfigJson(baseFolder) ?? baseFolder.ConfigJson) is { } config)
            {
                File.WriteAllText(Path.Combine(directory, ModelFolder.ConfigFileName), config);
                files.Insert(0, ModelFolder.ConfigFileName);
            }
            foreach (var (name, path) in baseFolder.SideFiles.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                File.Copy(path, Path.Combine(directory, name), overwrite: true);
                files.Add(name);
            }
            return files;
        }
    }
}
