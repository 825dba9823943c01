using AdaMerging.Infrastructure.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AdaMerging.Tests.Support;

/// <summary>
/// A service whose API and worker read one fake clock that moves only when a test moves it, so what expires after a
/// while is tested by moving the clock past the moment, never by waiting for it. Results are kept an hour, unfinished
/// uploads 10 min, Idempotency-Keys 5 min, blobs a minute after they are published; the background sweep never ticks
/// (once a day of fake time), a test sweeps when it means to (<see cref="SweepAsync"/>).
/// </summary>
public sealed class FakeClockFixture : ServiceFixture
{
    public const int ResultRetentionSeconds = 3600, UploadSeconds = 600, IdempotencyKeySeconds = 300, GraceSeconds = 60;

    // Starts at the wall clock: blobs' file times (written at the wall clock) are compared with it for their grace.
    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override TimeProvider? Clock => Time;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
    [
        new("AdaMerging:ResultRetentionSeconds", $"{ResultRetentionSeconds}"),
        new("AdaMerging:BlobSweepSeconds", "86400"),
        new("AdaMerging:BlobGraceSeconds", $"{GraceSeconds}"),
        new("AdaMerging:ResumableUploadSeconds", $"{UploadSeconds}"),
        new("AdaMerging:IdempotencyKeySeconds", $"{IdempotencyKeySeconds}"),
    ];

    /// <summary>One sweep of the API's, as a tick runs it, at the clock's time; returns the bytes it freed.</summary>
    public Task<long> SweepAsync() => BlobSweeper.SweepOnceAsync(ApiServices.GetRequiredService<IServiceScopeFactory>(), CancellationToken.None);
}
