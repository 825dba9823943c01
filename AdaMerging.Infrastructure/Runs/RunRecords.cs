using System.Reflection;
using System.Security.Cryptography;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using TorchSharp;

namespace AdaMerging.Infrastructure.Runs;

/// <summary>Builds a run's <see cref="RunRecord"/>: the inputs' digests, the device, threads and versions.</summary>
public static class RunRecords
{
    public static RunRecord For(MergePlan plan, torch.Device device)
    {
        var inputs = new List<InputDigest>();
        void Add(string role, string path) => inputs.Add(new InputDigest(role, Path.GetFileName(path), Sha256(path)));
        foreach (var (name, path) in plan.BaseFiles.OrderBy(f => f.Key, StringComparer.Ordinal)) inputs.Add(new InputDigest("base", name, Sha256(path)));
        foreach (var t in plan.Tasks)
        {
            foreach (var (name, path) in t.CheckpointFiles.OrderBy(f => f.Key, StringComparer.Ordinal)) inputs.Add(new InputDigest($"task '{t.Name}'", name, Sha256(path)));
            if (t.HeadPath is { } head) Add($"task '{t.Name}' head", head);
            if (t.AdaptationPath is { } adaptation) Add($"task '{t.Name}' adaptation data", adaptation);
            if (t.EvaluationPath is { } evaluation) Add($"task '{t.Name}' evaluation data", evaluation);
        }
        return new RunRecord(inputs, device.ToString(), torch.get_num_threads(), VersionOf(typeof(RunRecords).Assembly), torch.__version__,
            VersionOf(typeof(torch).Assembly));
    }

    /// <summary>
    /// A blob of the content-addressed store is named by its SHA-256 (checked when it was stored), under a folder named
    /// by the first two hex digits; any other file is hashed.
    /// </summary>
    public static string Sha256(string path)
    {
        var name = Path.GetFileName(path);
        if (name.Length == 64 && name.All(char.IsAsciiHexDigitLower) && Path.GetFileName(Path.GetDirectoryName(path)) == name[..2]) return name;
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";
}
