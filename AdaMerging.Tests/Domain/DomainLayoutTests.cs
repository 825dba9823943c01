using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Domain;

/// <summary>The domain by concern (docs/algorithm.md, "Architectures"): the engine asks the host for memory, never the allocator.</summary>
public class DomainLayoutTests
{
    private static IEnumerable<(string Path, string Text)> Sources(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Repository.Root(), "AdaMerging.Domain", folder), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(Repository.Root(), f), File.ReadAllText(f)));

    [Theory]
    [InlineData("Methods")]
    [InlineData("Merging")]
    [InlineData("Models")]
    [InlineData("Tensors")]
    [InlineData("Architectures")]
    public void The_engine_calls_no_allocator_and_no_libc_itself(string folder)
    {
        var sources = Sources(folder).ToList();
        Assert.NotEmpty(sources);
        Assert.All(sources, s => Assert.False(s.Text.Contains("ProcessMemory", StringComparison.Ordinal) || s.Text.Contains("DllImport", StringComparison.Ordinal),
            $"{s.Path} calls the allocator itself; ask HostMemory.Current"));
    }

    [Fact]
    public void Each_method_s_algorithms_sit_in_its_own_folder_beside_it()
    {
        foreach (var (folder, method) in new[] { ("AdaMerging", "AdaMergingMethod"), ("Ties", "TiesMethod"), ("Dare", "DareMethod"), ("Spectral", "TsvMethod"), ("RegMean", "RegMeanMethod") })
            Assert.True(File.Exists(Path.Combine(Repository.Root(), "AdaMerging.Domain", "Methods", folder, method + ".cs")), $"{method} is not in Methods/{folder}");
        Assert.DoesNotContain(Sources("Merging"), s => s.Text.Contains("class Ties", StringComparison.Ordinal) || s.Text.Contains("class Dare", StringComparison.Ordinal)
            || s.Text.Contains("class SpectralMerge", StringComparison.Ordinal) || s.Text.Contains("class RegMean", StringComparison.Ordinal)
            || s.Text.Contains("class AdaMergingRun", StringComparison.Ordinal));
    }
}
