using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// SHA-256 digests of safetensors files taken from the bytes a run reads anyway (docs/performance.md, "Streamed
/// merges"): a run that records its inputs' digests watches their paths before it opens them; each
/// <see cref="SafetensorsFile"/> opened on a watched path then feeds its header and every read to the path's digest,
/// and a file read from start to end in order (a merge reads tensors in data order) has its digest without a second
/// read. A file read otherwise (out of order, in part, or by another reader) has none, and the run hashes it itself.
/// </summary>
public sealed class ReadDigests : IDisposable
{
    private static readonly ConcurrentDictionary<string, SequentialDigest> Watched = new(StringComparer.Ordinal);

    private readonly Dictionary<string, SequentialDigest> _mine = new(StringComparer.Ordinal);

    private ReadDigests()
    {
    }

    /// <summary>Watches these files until disposed; a path another run already watches is left to that run (this one hashes it after).</summary>
    public static ReadDigests Watch(IEnumerable<string> paths)
    {
        var digests = new ReadDigests();
        foreach (var path in paths.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal))
        {
            if (!File.Exists(path)) continue;   // the run's own opening says what is missing
            var digest = new SequentialDigest(new FileInfo(path).Length);
            if (Watched.TryAdd(path, digest)) digests._mine[path] = digest;
            else digest.Dispose();
        }
        return digests;
    }

    /// <summary>The digest a file opened at <paramref name="path"/> feeds, if some run watches it.</summary>
    internal static SequentialDigest? For(string path) => Watched.TryGetValue(Path.GetFullPath(path), out var digest) ? digest : null;

    /// <summary>The file's SHA-256 in lowercase hex, when every byte of it was read in order; else null.</summary>
    public string? Completed(string path) => _mine.TryGetValue(Path.GetFullPath(path), out var digest) ? digest.Finish() : null;

    public void Dispose()
    {
        foreach (var (path, digest) in _mine)
        {
            Watched.TryRemove(new KeyValuePair<string, SequentialDigest>(path, digest));
            digest.Dispose();
        }
        _mine.Clear();
    }
}

/// <summary>A running SHA-256 over a file's bytes as they are read: bytes read again are skipped, a gap ends it.</summary>
internal sealed class SequentialDigest(long length) : IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Lock _lock = new();
    private long _next;
    private bool _broken;

    /// <summary><paramref name="bytes"/> were read at <paramref name="offset"/>.</summary>
    public void Observe(long offset, ReadOnlySpan<byte> bytes)
    {
        lock (_lock)
        {
            if (_broken || offset + bytes.Length <= _next) return;
            if (offset > _next)
            {
                _broken = true;
                return;
            }
            _hash.AppendData(bytes[(int)(_next - offset)..]);
            _next = offset + bytes.Length;
        }
    }

    /// <summary>The digest when the whole file was seen, once; null otherwise.</summary>
    public string? Finish()
    {
        lock (_lock)
        {
            if (_broken || _next != length) return null;
            _broken = true;   // finished: a second call has nothing to give
            return Convert.ToHexStringLower(_hash.GetHashAndReset());
        }
    }

    /// <remarks>A file still open on the path afterwards reads on, unobserved.</remarks>
    public void Dispose()
    {
        lock (_lock)
        {
            _broken = true;
            _hash.Dispose();
        }
    }
}
