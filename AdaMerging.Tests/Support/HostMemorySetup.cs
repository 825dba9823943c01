using System.Runtime.CompilerServices;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Diagnostics;

namespace AdaMerging.Tests.Support;

/// <summary>The tests run the engine as the worker does: on glibc's allocator (trims, per-phase resident memory).</summary>
internal static class HostMemorySetup
{
    [ModuleInitializer]
    internal static void UseGlibc() => HostMemory.Use(ProcessMemory.Glibc);
}
