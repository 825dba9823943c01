namespace AdaMerging.Benchmark;

/// <summary>A benchmark's build folder, cached by its settings' hash: written under ".partial" and moved into place whole.</summary>
public static class BuildFolder
{
    /// <summary>Whether <paramref name="directory"/> holds a finished build (its build.json).</summary>
    public static bool IsBuilt(string directory) => File.Exists(Path.Combine(directory, "build.json"));

    /// <summary>Every file of <paramref name="from"/> (not its subfolders) into <paramref name="to"/>, but the one named <paramref name="except"/>.</summary>
    public static void Copy(string from, string to, string? except = null)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from).Where(f => Path.GetFileName(f) != except))
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    /// <summary>An empty staging folder beside <paramref name="directory"/>, left over ones removed.</summary>
    public static string FreshStaging(string directory)
    {
        var staging = directory + ".partial";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(staging);
        return staging;
    }
}
