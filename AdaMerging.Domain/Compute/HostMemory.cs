namespace AdaMerging.Domain.Compute;

/// <summary>
/// The process's allocator as the merge engine asks it: resident bytes (each phase's peak in the report) and handing
/// freed memory back, so that a checkpointed step's peak counts live data (docs/algorithm.md, "Memory"). The engine
/// never calls the allocator itself: the host provides this, the worker, the benchmarks and the tests glibc's
/// (<c>ProcessMemory.Glibc</c>).
/// </summary>
public interface IHostMemory
{
    long Resident();

    void Trim();
}

/// <summary>The host's <see cref="IHostMemory"/>; until a host gives one, nothing is trimmed and resident memory reads 0.</summary>
public static class HostMemory
{
    private static IHostMemory _current = new Unmeasured();

    public static IHostMemory Current => Volatile.Read(ref _current);

    public static void Use(IHostMemory memory) => Volatile.Write(ref _current, memory);

    private sealed class Unmeasured : IHostMemory
    {
        public long Resident() => 0;

        public void Trim() { }
    }
}
