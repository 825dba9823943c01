using System.Threading.RateLimiting;

namespace AdaMerging.Api.Access;

/// <summary>
/// A token bucket of <paramref name="perSecond"/> tokens, refilled continuously at that rate, read on the service's
/// <see cref="TimeProvider"/>. System.Threading.RateLimiting's bucket refills on its own timer and the system clock,
/// which a test cannot move: whether a burst met the limit would depend on how fast the machine served it. Requests
/// never queue; a refusal says when one token will be back.
/// </summary>
public sealed class ClockedTokenBucket(int perSecond, TimeProvider clock) : RateLimiter
{
    private static readonly RateLimitLease Granted = new Lease(true, null);
    private readonly Lock _gate = new();
    private double _tokens = perSecond;
    private long _refilledAt = clock.GetTimestamp();
    private long _granted, _refused;

    public override TimeSpan? IdleDuration
    {
        get
        {
            lock (_gate)
            {
                // Idle since the moment the bucket was full again.
                var sinceFull = clock.GetElapsedTime(_refilledAt) - TimeSpan.FromSeconds((perSecond - _tokens) / perSecond);
                return sinceFull >= TimeSpan.Zero ? sinceFull : null;
            }
        }
    }

    public override RateLimiterStatistics GetStatistics()
    {
        lock (_gate)
        {
            Refill();
            return new RateLimiterStatistics
            {
                CurrentAvailablePermits = (long)_tokens, CurrentQueuedCount = 0,
                TotalSuccessfulLeases = _granted, TotalFailedLeases = _refused,
            };
        }
    }

    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        lock (_gate)
        {
            Refill();
            if (_tokens >= Math.Max(permitCount, 1))
            {
                _tokens -= permitCount;
                _granted++;
                return Granted;
            }
            _refused++;
            return new Lease(false, TimeSpan.FromSeconds((Math.Max(permitCount, 1) - _tokens) / perSecond));
        }
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(permitCount));

    private void Refill()
    {
        var now = clock.GetTimestamp();
        _tokens = Math.Min(perSecond, _tokens + clock.GetElapsedTime(_refilledAt, now).TotalSeconds * perSecond);
        _refilledAt = now;
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
