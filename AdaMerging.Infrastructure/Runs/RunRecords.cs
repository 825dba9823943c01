using System.Reflection;
using System.Security.Cryptography;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Infrastructure.Runs;

/// <summary>Builds a run's <see cref="RunRecord"/>: the inputs' digests, the device, threads and versions.</summary>
public static class RunRecords
{
    /// <param name="read">Digests taken from the run's own reads (<see cref="ReadDigests"/>); a file without one is hashed here.</param>
    public static RunRecord For(MergePlan plan, torch.Device device, ReadDigests? read = null)
    {
        var files = Files(plan);
        // Files outside the store are hashed, on every core: 12 GB of a language model's inputs take seconds a core.
        var digests = new string[files.Count];
        Parallel.For(0, files.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            i => digests[i] = (Stored(files[i].Path) ? null : read?.Completed(files[i].Path)) ?? Sha256(files[i].Path));
        var inputs = files.Select((f, i) => new InputDigest(f.Role, f.File, digests[i])).ToList();
        return new RunRecord(inputs, device.ToString(), torch.get_num_threads(), VersionOf(typeof(RunRecords).Assembly), torch.__version__,
            VersionOf(typeof(torch).Assembly));
    }

    /// <summary>The run's input files that are not blobs of the store, whose digests the run takes as it reads them (<see cref="ReadDigests"/>).</summary>
    public static ReadDigests WatchDigests(MergePlan plan) => ReadDigests.Watch(Files(plan).Select(f => f.Path).Where(p => !Stored(p)));

    private static List<(string Role, string File, string Path)> Files(MergePlan plan)
    {
        var files = new List<(string Role, string File, string Path)>();
        void Add(string role, string path) => files.Add((role, Path.GetFileName(path), path));
        foreach (var (name, path) in plan.BaseFiles.OrderBy(f => f.Key, StringComparer.Ordinal)) files.Add(("base", name, path));
        foreach (var t in plan.Tasks)
        {
            foreach (var (name, path) in t.CheckpointFiles.OrderBy(f => f.Key, StringComparer.Ordinal)) files.Add(($"task '{t.Name}'", name, path));
            if (t.HeadPath is { } head) Add($"task '{t.Name}' head", head);
            if (t.AdaptationPath is { } adaptation) Add($"task '{t.Name}' adaptation data", adaptation);
            if (t.EvaluationPath is { } evaluation) Add($"task '{t.Name}' evaluation data", evaluation);
        }
        return files;
    }

    /// <summary>
    /// A blob of the content-addressed store is named by its SHA-256 (checked when it was stored), under a folder named
    /// by the first two hex digits; any other file is hashed.
    /// </summary>
    public static string Sha256(string path)
    {
        if (Stored(path)) return Path.GetFileName(path);
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static bool Stored(string path)
    {
        var name = Path.GetFileName(path);
        return name.Length == 64 && name.All(char.IsAsciiHexDigitLower) && Path.GetFileName(Path.GetDirectoryName(path)) == name[..2];
    }

    private static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";
}
