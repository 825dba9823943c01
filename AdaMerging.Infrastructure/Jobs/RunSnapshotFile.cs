using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// A merge's AdaMerging state in {DataRoot}/state/{mergeId}.json, replaced by write-fsync-rename so that a crash
/// mid-save leaves the previous state whole. Deleted when the merge finishes.
/// </summary>
public sealed class RunSnapshotFile(string dataRoot, Guid mergeId, TimeSpan interval) : IRunSnapshots
{
    private readonly string _path = Path.Combine(Path.GetFullPath(dataRoot), "state", $"{mergeId:N}.json");

    public TimeSpan Interval => interval;

    public AdaMergingState? Load()
    {
        if (!File.Exists(_path)) return null;
        try
        {
            return JsonSerializer.Deserialize<AdaMergingState>(File.ReadAllText(_path));
        }
        catch (JsonException)
        {
            return null; // unreadable (never half-written, but perhaps from another version): start afresh
        }
    }

    public void Save(AdaMergingState state)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        var temp = $"{_path}.{Environment.ProcessId}.tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(file, state);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, _path, overwrite: true);
    }

    /// <summary>Removes the state and any temp file a killed save left beside it.</summary>
    public void Delete()
    {
        var folder = Path.GetDirectoryName(_path)!;
        if (!Directory.Exists(folder)) return;
        foreach (var file in Directory.GetFiles(folder, Path.GetFileName(_path) + "*")) File.Delete(file);
    }
}
