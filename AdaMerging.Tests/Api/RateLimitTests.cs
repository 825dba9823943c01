using System.Net;
using AdaMerging.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace AdaMerging.Tests.Api;

/// <summary>The service at 20 requests a second per key, on a fake clock that moves only when a test moves it.</summary>
public sealed class RateLimitedServiceFixture : ServiceFixture
{
    public const int PerSecond = 20;

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    protected override TimeProvider? Clock => Time;

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings() =>
        [new("AdaMerging:RequestsPerSecondPerKey", $"{PerSecond}")];
}

public sealed class RateLimitTests(RateLimitedServiceFixture service) : IClassFixture<RateLimitedServiceFixture>
{
    private const int Burst = 3 * RateLimitedServiceFixture.PerSecond;

    [Fact]
    public async Task A_key_gets_a_second_s_worth_then_429s_that_say_when_to_retry_and_other_keys_are_unaffected()
    {
        var flooder = await service.ClientForAsync("flood");
        var answers = await Task.WhenAll(Enumerable.Range(0, Burst).Select(async _ =>
        {
            using var r = await flooder.GetAsync("/merges");
            var code = r.StatusCode == HttpStatusCode.TooManyRequests ? (await Problems.ReadAsync(r, HttpStatusCode.TooManyRequests)).GetProperty("code").GetString() : null;
            return (r.StatusCode, r.Headers.RetryAfter?.Delta, code);
        }));
        Assert.Equal(RateLimitedServiceFixture.PerSecond, answers.Count(a => a.StatusCode == HttpStatusCode.OK));
        Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a =>
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, a.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), a.Delta); // one token back in 1/20 s, rounded up to whole seconds
            Assert.Equal("rate_limited", a.code);
        });
        var calm = await service.ClientForAsync("calm");
        using (var ok = await calm.GetAsync("/merges"))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        // Half a second refills half the bucket: ten more, then refused again.
        service.Time.Advance(TimeSpan.FromMilliseconds(500));
        var after = await Task.WhenAll(Enumerable.Range(0, RateLimitedServiceFixture.PerSecond).Select(async _ =>
        {
            using var r = await flooder.GetAsync("/merges");
            return r.StatusCode;
        }));
        Assert.Equal(RateLimitedServiceFixture.PerSecond / 2, after.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(RateLimitedServiceFixture.PerSecond / 2, after.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task Made_up_keys_share_their_address_s_allowance_instead_of_getting_one_each()
    {
        service.Time.Advance(TimeSpan.FromSeconds(2)); // the address's bucket full, whatever the fixture's start spent
        var statuses = await Task.WhenAll(Enumerable.Range(0, Burst).Select(async i =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/merges");
            request.Headers.Add("X-Api-Key", $"made-up-{i}-{Guid.NewGuid():N}");
            using var r = await service.Anonymous.SendAsync(request);
            return r.StatusCode;
        }));
        Assert.Equal(RateLimitedServiceFixture.PerSecond, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(Burst - RateLimitedServiceFixture.PerSecond, statuses.Count(s => s == HttpStatusCode.TooManyRequests)); // before: 60 fresh allowances, no 429 at all
        var holder = await service.ClientForAsync("holder");
        using var ok = await holder.GetAsync("/merges");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode); // a real key keeps its own allowance
    }
}
