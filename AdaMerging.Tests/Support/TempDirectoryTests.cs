namespace AdaMerging.Tests.Support;

/// <summary>A test class with a temp folder of its own, removed when xunit disposes the class.</summary>
public abstract class TempDirectoryTests : IDisposable
{
    protected TempDirectory Dir { get; } = new();

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing) Dir.Dispose();
    }
}
