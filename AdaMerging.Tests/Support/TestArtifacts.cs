namespace AdaMerging.Tests.Support;

/// <summary>
/// Files a person may want to look at after a run (plots, screenshots): kept beside the test binaries in
/// <c>test-artifacts/</c>, replaced by the next run, never in the machine's shared temp folder.
/// </summary>
public static class TestArtifacts
{
    public static string Folder { get; } = Path.Combine(AppContext.BaseDirectory, "test-artifacts");

    public static async Task<string> SaveAsync(string name, byte[] content)
    {
        Directory.CreateDirectory(Folder);
        var path = Path.Combine(Folder, name);
        await File.WriteAllBytesAsync(path, content);
        return path;
    }
}
