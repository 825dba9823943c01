using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using AdaMerging.Domain.Methods;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

/// <summary>Uploads the real inputs the hostile requests point at, once per class.</summary>
public sealed class HostileRequestFixture : ServiceFixture
{
    private readonly TempDirectory _files = new();
    private MalformedMergeRequests.Ids? _ids;

    public async Task<MalformedMergeRequests.Ids> IdsAsync()
    {
        if (_ids is not null) return _ids;
        var inputs = await TinyService.UploadAsync(this, _files, tasks: 1, seed: 61);
        return _ids = new(inputs.Base, inputs.Tasks[0].Checkpoint, inputs.Head, inputs.Tasks[0].Data);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _files.Dispose();
    }
}

/// <summary>
/// Every malformed merge request is refused with a 4xx ProblemDetails that says what is wrong, creates no merge,
/// and leaves a log line carrying the trace id the client was given; the API keeps answering.
/// </summary>
public sealed class HostileRequestTests(HostileRequestFixture service) : IClassFixture<HostileRequestFixture>
{
    [Fact]
    public void Every_option_of_every_registered_method_has_a_malformed_case()
    {
        // A method added to the registry brings options; this fails until the corpus refuses bad values of each.
        var options = MergeMethods.All.SelectMany(MergeMethods.OptionsOf).Select(o => o.Name).Distinct();
        var uncovered = options.Where(o => !MalformedMergeRequests.Reasons.Any(r => r.StartsWith(o + " ", StringComparison.Ordinal))).ToList();
        Assert.True(uncovered.Count == 0, $"no malformed case for: {string.Join(", ", uncovered)}");
    }

    [Theory]
    [MemberData(nameof(MalformedMergeRequests.Names), MemberType = typeof(MalformedMergeRequests))]
    public async Task A_malformed_merge_request_is_refused_clearly_and_creates_nothing(string reason)
    {
        var ids = await service.IdsAsync();
        var bad = MalformedMergeRequests.For(reason, ids);
        await using var db = service.NewDbContext();
        int before = await db.Merges.CountAsync();

        using var message = new HttpRequestMessage(HttpMethod.Post, "/merges") { Content = new ByteArrayContent(bad.Body) };
        if (bad.ContentType is { } type) message.Content.Headers.ContentType = new MediaTypeHeaderValue(type);
        foreach (var (name, value) in bad.Headers ?? new Dictionary<string, string>()) message.Headers.TryAddWithoutValidation(name, value);
        using var response = await service.Client.SendAsync(message);

        var text = await response.Content.ReadAsStringAsync();
        int status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{reason}: answered {status}: {Shorten(text)}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.False(string.IsNullOrWhiteSpace(Problems.Text(problem).Trim(' ', '|')), $"{reason}: the problem says nothing");
        Assert.True(text.Length < 20_000, $"{reason}: a {text.Length}-character answer echoes the input");
        Assert.Equal(before, await db.Merges.CountAsync());

        var traceId = problem.GetProperty("traceId").GetString()!;
        Assert.Contains(service.ApiLog.Lines, l => l.Contains(traceId, StringComparison.Ordinal) && l.Contains($"responded {status}", StringComparison.Ordinal));
        using var health = await service.Anonymous.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private static string Shorten(string text) => text.Length <= 400 ? text : text[..400] + "…";
}
