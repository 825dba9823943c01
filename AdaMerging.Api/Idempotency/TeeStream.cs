namespace AdaMerging.Api.Idempotency;

/// <summary>
/// Holds back what the endpoint writes, up to a limit, so the answer can be stored before the client sees it (a retry
/// sent the moment the answer arrives then finds it stored, not a request still in flight). Past the limit it writes
/// everything through and keeps nothing: such an answer is not stored.
/// </summary>
internal sealed class TeeStream(Stream inner, int limit) : Stream
{
    private MemoryStream? _held = new();

    /// <summary>Everything written, or null when it passed the limit (and went through).</summary>
    public byte[]? Copy => _held?.ToArray();

    /// <summary>Sends what was held back; the caller has stored it first.</summary>
    public async Task ReleaseAsync(CancellationToken ct)
    {
        if (_held is not { Length: > 0 } held) return;
        held.Position = 0;
        await held.CopyToAsync(inner, ct);
        held.SetLength(0);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_held is { } held && held.Length + buffer.Length <= limit)
        {
            held.Write(buffer.Span);
            return;
        }
        if (_held is { } overflowing)
        {
            overflowing.Position = 0;
            await overflowing.CopyToAsync(inner, cancellationToken);
            await overflowing.DisposeAsync();
            _held = null;
        }
        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Flushing while holding back would send nothing; the held bytes go with ReleaseAsync.
    public override void Flush()
    {
        if (_held is null) inner.Flush();
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _held is null ? inner.FlushAsync(cancellationToken) : Task.CompletedTask;

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _held?.Dispose();
        base.Dispose(disposing);
    }
}
