namespace AdaMerging.Tests.Support;

/// <summary>The checkout the tests were built from.</summary>
public static class Repository
{
    public static string Root()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "AdaMerging.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("the repository root (AdaMerging.slnx) was not found");
    }
}
