using System.Security.Cryptography;

namespace AdaMerging.Infrastructure.Blobs;

/// <summary>
/// Files addressed by their SHA-256. Content is written under tmp/ while it is hashed and renamed into
/// sha256/ only when complete, so no reader ever sees a partial blob; the same bytes are stored once.
/// </summary>
public sealed class BlobStore
{
    private readonly string _blobs;
    private readonly string _temp;
    private readonly string _uploads;
    private readonly TimeSpan _foreignTempAge;

    public BlobStore(string root, string? hostId = null, TimeSpan? foreignTempAge = null)
    {
        _blobs = Path.Combine(Path.GetFullPath(root), "blobs", "sha256");
        _temp = Path.Combine(Path.GetFullPath(root), "blobs", "tmp");
        HostId = hostId ?? Environment.MachineName;
        _foreignTempAge = foreignTempAge ?? TimeSpan.FromHours(24);
        Directory.CreateDirectory(_blobs);
        Directory.CreateDirectory(_temp);
        _uploads = Path.Combine(Path.GetFullPath(root), "blobs", "uploads");
        Directory.CreateDirectory(_uploads);
        SweepAbandoned();
    }

    /// <summary>This host's name in temp files: several hosts may share the store (docs/deployment.md).</summary>
    public string HostId { get; }

    /// <summary>
    /// A fresh path under the store's temp folder, on the same file system as the blobs, named after this host and
    /// process (host-pid-guid) so that what a killed process left behind can be told from what a live one is writing.
    /// </summary>
    public string NewTempPath(string suffix = "") =>
        Path.Combine(_temp, $"{HostId}-{Environment.ProcessId}-{Guid.NewGuid():N}{suffix}");

    /// <summary>
    /// Deletes temp files and folders that no live writer can own: this host's, of processes that no longer run (an
    /// upload or a merge output cut off by a crash), and other hosts' only once older than the configured age (their
    /// processes cannot be seen from here). Never visible as blobs, they now release their space.
    /// </summary>
    public int SweepAbandoned()
    {
        int removed = 0;
        foreach (var entry in Directory.EnumerateFileSystemEntries(_temp))
        {
            var (host, pid) = Writer(Path.GetFileName(entry));
            bool ours = host is null || host == HostId; // host null: the name of an older version, written here
            if (ours && pid is { } p && (p == Environment.ProcessId || Directory.Exists($"/proc/{p}"))) continue;
            if (!ours && DateTime.UtcNow - Directory.GetLastWriteTimeUtc(entry) < _foreignTempAge) continue;
            try
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
                removed++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // another process swept it first, or it is not ours to remove
            }
        }
        return removed;
    }

    /// <summary>The host and process a temp name says wrote it: "host-pid-guid[.suffix]" (the host may contain '-'), or "pid-guid".</summary>
    public static (string? Host, int? Pid) Writer(string name)
    {
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var parts = (dot < 0 ? name : name[..dot]).Split('-');
        if (parts.Length < 2 || parts[^1].Length != 32
            || !int.TryParse(parts[^2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
            return ("", null); // not a name this store writes: someone else's, swept by age
        return (parts.Length == 2 ? null : string.Join('-', parts[..^2]), pid);
    }

    /// <summary>
    /// Where a resumable upload's bytes gather: beside the blobs (so publishing is a rename) but not under tmp/, whose
    /// files die with the process that wrote them; these outlive it until the upload completes or expires.
    /// </summary>
    public string UploadPath(Guid uploadId) => Path.Combine(_uploads, uploadId.ToString("N"));

    /// <summary>Every resumable upload's partial file, by upload id.</summary>
    public IEnumerable<(Guid Id, string Path)> Uploads() =>
        Directory.EnumerateFiles(_uploads).Select(p => (Ok: Guid.TryParseExact(System.IO.Path.GetFileName(p), "N", out var id), Id: id, Path: p))
            .Where(u => u.Ok).Select(u => (u.Id, u.Path));

    public string PathOf(string sha256)
    {
        if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
            throw new ArgumentException($"'{sha256}' is not a lower-case SHA-256", nameof(sha256));
        return Path.Combine(_blobs, sha256[..2], sha256);
    }

    public bool Exists(string sha256) => File.Exists(PathOf(sha256));

    /// <summary>Copies <paramref name="source"/> to a temp file while hashing it; at most <paramref name="maxBytes"/>.</summary>
    public async Task<StagedBlob> StageAsync(Stream source, long maxBytes, CancellationToken ct)
    {
        var path = NewTempPath();
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long total = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                // Two buffers: while one chunk is written to disk, the next is received and hashed.
                byte[] current = new byte[1 << 20], other = new byte[1 << 20];
                var writing = Task.CompletedTask;
                int read;
                while ((read = await ReadChunkAsync(source, current, ct)) > 0)
                {
                    total += read;
                    if (total > maxBytes) throw new BlobTooLargeException(maxBytes);
                    hash.AppendData(current, 0, read);
                    await writing;
                    writing = file.WriteAsync(current.AsMemory(0, read), ct).AsTask();
                    (current, other) = (other, current);
                }
                await writing;
                // On disk before it can be renamed into the store: a crash never leaves a visible blob half written.
                file.Flush(flushToDisk: true);
            }
            return new StagedBlob(this, path, Convert.ToHexStringLower(hash.GetHashAndReset()), total);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Fills the buffer as far as the stream allows, so disk writes stay large.</summary>
    private static async Task<int> ReadChunkAsync(Stream source, byte[] buffer, CancellationToken ct)
    {
        int filled = 0, read;
        while (filled < buffer.Length && (read = await source.ReadAsync(buffer.AsMemory(filled), ct)) > 0) filled += read;
        return filled;
    }

    /// <summary>Hashes a finished file under the temp folder and moves it into the store.</summary>
    public async Task<(string Sha256, long Bytes)> ImportAsync(string tempPath, CancellationToken ct)
    {
        string sha;
        await using (var file = new FileStream(tempPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan))
            sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
        var bytes = new FileInfo(tempPath).Length;
        Publish(tempPath, sha);
        return (sha, bytes);
    }

    /// <remarks>
    /// The blob's modification time is set to now either way: the collector leaves blobs published within its grace
    /// period alone, so a blob an upload has just (re)published is never removed before its row is saved.
    /// </remarks>
    public void Publish(string tempPath, string sha256)
    {
        var target = PathOf(sha256);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (File.Exists(target)) File.Delete(tempPath);
        else File.Move(tempPath, target);
        File.SetLastWriteTimeUtc(target, DateTime.UtcNow);
    }

    /// <summary>Every blob's SHA-256 (the store's contents, not what rows reference).</summary>
    public IEnumerable<string> All() =>
        Directory.EnumerateDirectories(_blobs).SelectMany(Directory.EnumerateFiles).Select(Path.GetFileName)
            .Where(n => n is { Length: 64 } && n.All(char.IsAsciiHexDigitLower)).Select(n => n!);
}

/// <summary>An upload held in the temp folder until it is checked and committed, or discarded.</summary>
public sealed class StagedBlob(BlobStore store, string path, string sha256, long bytes) : IDisposable
{
    private bool _committed;

    public string Path { get; } = path;

    public string Sha256 { get; } = sha256;

    public long Bytes { get; } = bytes;

    public void Commit()
    {
        store.Publish(Path, Sha256);
        _committed = true;
    }

    public void Dispose()
    {
        if (!_committed) File.Delete(Path);
    }
}

public sealed class BlobTooLargeException(long limit) : Exception($"the upload exceeds the limit of {limit} bytes")
{
    public long Limit { get; } = limit;
}
