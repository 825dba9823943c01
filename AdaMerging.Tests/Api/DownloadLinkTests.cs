using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using AdaMerging.Api.Access;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

/// <summary>
/// Download links (POST /merges/{id}/links, GET /downloads/{token}): made with a key, used without one, for the file
/// they name only, resumable, refused once expired, altered, or their key revoked (docs/api.md, "Download links").
/// </summary>
public sealed class DownloadLinkTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    private async Task<(string Id, JsonElement Merge)> SucceededMergeAsync(HttpClient client)
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 2, seed: 41);
        using var submitted = await client.PostAsJsonAsync("/merges", new { method = "weight_averaging", @base = inputs.Base, tasks = inputs.TaskJson() });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString());
        Assert.Equal("succeeded", merge.GetProperty("status").GetString());
        return (merge.GetProperty("id").GetString()!, merge);
    }

    private static async Task<JsonElement> LinkAsync(HttpClient client, string mergeId, string file, int? seconds = null)
    {
        using var response = await client.PostAsJsonAsync($"/merges/{mergeId}/links", new { file, expiresInSeconds = seconds });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"link answered {(int)response.StatusCode}: {body}");
        return body;
    }

    [Fact]
    public async Task A_link_downloads_the_named_file_without_a_key_resumably_and_the_archive_too()
    {
        var (id, merge) = await SucceededMergeAsync(service.Client);
        var before = DateTimeOffset.UtcNow;
        var link = await LinkAsync(service.Client, id, "model.safetensors", seconds: 600);
        var expires = link.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expires, before.AddSeconds(598), before.AddSeconds(602));

        var bytes = await service.Anonymous.GetByteArrayAsync(link.GetProperty("url").GetString());
        var expected = merge.GetProperty("files").EnumerateArray().Single(f => f.GetProperty("fileName").GetString() == "model.safetensors");
        Assert.Equal(expected.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
        Assert.Equal(await service.Client.GetByteArrayAsync($"/merges/{id}/model"), bytes);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, link.GetProperty("url").GetString());
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(100, null);
        using var rest = await service.Anonymous.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, rest.StatusCode);
        Assert.Equal(bytes[100..], await rest.Content.ReadAsByteArrayAsync());

        var archive = await LinkAsync(service.Client, id, "archive");
        await using var zip = new System.IO.Compression.ZipArchive(await service.Anonymous.GetStreamAsync(archive.GetProperty("url").GetString()));
        Assert.Contains(zip.Entries, e => e.FullName == $"merged-{id}/model.safetensors");
    }

    [Fact]
    public async Task A_link_is_refused_when_expired_altered_for_another_file_or_after_its_key_is_revoked()
    {
        var client = await service.ClientForAsync("alice"); // a second key of the owner of what TinyService uploads: revoked below
        var (id, _) = await SucceededMergeAsync(client);
        var url = (await LinkAsync(client, id, "model.safetensors")).GetProperty("url").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await service.Anonymous.GetAsync(url)).StatusCode);

        // The same grant for another file, or with a later expiry, keeps the signature of the first: refused.
        var token = url["/downloads/".Length..];
        var grant = DownloadLinks.Read(token)!;
        var parts = token.Split('.');
        var otherFile = string.Join('.', parts[0], parts[1], parts[2], Convert.ToBase64String("config.json"u8.ToArray()).TrimEnd('='), parts[4]);
        var later = string.Join('.', parts[0], parts[1], (grant.ExpiresAt.ToUnixTimeSeconds() + 3600).ToString(System.Globalization.CultureInfo.InvariantCulture), parts[3], parts[4]);
        foreach (var forged in new[] { otherFile, later, token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1], "not-a-token" })
        {
            using var refused = await service.Anonymous.GetAsync("/downloads/" + forged);
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            Assert.Contains("not valid", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Correctly signed but past its expiry: 410 saying when it expired.
        await using (var db = service.NewDbContext())
        {
            var hash = (await db.ApiKeys.SingleAsync(k => k.Id == grant.KeyId)).Hash;
            var expired = DownloadLinks.Token(grant with { ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-5) }, hash);
            using var gone = await service.Anonymous.GetAsync("/downloads/" + expired);
            Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
            Assert.Contains("expired", (await gone.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var revoke = await service.Admin.DeleteAsync($"/keys/{grant.KeyId}"))
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await service.Anonymous.GetAsync(url)).StatusCode);
    }

    [Fact]
    public async Task Making_a_link_names_every_refusal_another_owners_merge_an_unknown_file_a_bad_lifetime()
    {
        var (id, _) = await SucceededMergeAsync(service.Client);
        var stranger = await service.ClientForAsync("stranger");
        using (var hidden = await stranger.PostAsJsonAsync($"/merges/{id}/links", new { file = "model.safetensors" }))
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        using (var unknown = await service.Client.PostAsJsonAsync($"/merges/{id}/links", new { file = "weights.bin" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            var detail = (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Contains("model.safetensors", detail, StringComparison.Ordinal); // it lists what the merge has
        }
        foreach (var seconds in new[] { 59, 7 * 24 * 3600 + 1 })
            using (var bad = await service.Client.PostAsJsonAsync($"/merges/{id}/links", new { file = "model.safetensors", expiresInSeconds = seconds }))
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using (var anonymous = await service.Anonymous.PostAsJsonAsync($"/merges/{id}/links", new { file = "model.safetensors" }))
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
