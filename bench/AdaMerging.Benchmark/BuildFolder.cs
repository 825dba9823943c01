namespace AdaMerging.Benchmark;

/// <summary>A benchmark's build folder, cached by its settings' hash: written under ".partial" and moved into place whole.</summary>
public static class BuildFolder
{
    /// <summary>Whether <paramref name="directory"/> holds a finished build (its build.json).</summary>
    public static bool IsBuilt(string directory) => File.Exists(Path.Combine(directory, "build.json"));

    /// <summary>An empty staging folder beside <paramref name="directory"/>, left over ones removed.</summary>
    public static string FreshStaging(string directory)
    {
        var staging = directory + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        return staging;
    }
}
