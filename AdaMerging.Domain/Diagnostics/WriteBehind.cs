using System.Runtime.InteropServices;

namespace AdaMerging.Domain.Diagnostics;

/// <summary>
/// Starts the kernel's writeback of a file while it is being written (Linux's sync_file_range), a window at a time,
/// so that the fsync of a commit waits for the last window instead of the whole file (docs/performance.md, "Streamed
/// merges"). Without it a file smaller than the kernel's dirty threshold (a tenth of memory) goes to disk only when it
/// is committed, after every byte of it was produced: a merge's reading and its writing then take turns instead of
/// running side by side (cold, the 1b merge took 27–32 s without it and 24–28 s with it). Elsewhere than Linux it does
/// nothing; the commit's fsync stays the guarantee either way.
/// </summary>
public sealed class WriteBehind(FileStream stream)
{
    /// <summary>Bytes written before their writeback is started.</summary>
    public const long WindowBytes = 32L << 20;

    private const uint StartWrite = 2;   // SYNC_FILE_RANGE_WRITE in fcntl.h: start writing the range's dirty pages, do not wait

    private readonly bool _linux = OperatingSystem.IsLinux();
    private long _started;

    /// <summary>After a write: once a window has been written since the last start, hands it to the kernel's writeback.</summary>
    public void Advance()
    {
        if (!_linux) return;
        long position = stream.Position;
        if (position - _started < WindowBytes) return;
        stream.Flush();
        if (SyncFileRange((int)stream.SafeFileHandle.DangerousGetHandle(), _started, position - _started, StartWrite) == 0) _started = position;
    }

    // A hint: where it fails (a file system without it) the commit's fsync does the work, as without this class.
    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    private static extern int SyncFileRange(int fd, long offset, long bytes, uint flags);
}
