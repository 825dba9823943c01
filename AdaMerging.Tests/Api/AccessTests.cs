using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>Who may see and touch what: keys required, owners isolated, admins see everything.</summary>
public sealed class AccessTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task Owners_see_only_their_own_and_admins_see_everything()
    {
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 41); // as alice
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } },
        });
        var merge = submitted.Headers.Location!.ToString();
        await service.WaitForMergeAsync(merge);
        var bob = await service.ClientForAsync("bob");

        var table = new (string What, string Path, string Method)[]
        {
            ("checkpoint", $"/checkpoints/{inputs.Base}", "GET"),
            ("tensor list", $"/checkpoints/{inputs.Base}/tensors", "GET"),
            ("head", $"/heads/{inputs.Head}", "GET"),
            ("dataset", $"/datasets/{inputs.Tasks[0].Data}", "GET"),
            ("merge", merge, "GET"),
            ("report", merge + "/report", "GET"),
            ("model", merge + "/model", "GET"),
            ("cancel", merge + "/cancel", "POST"),
        };
        foreach (var (what, path, method) in table)
        {
            async Task<HttpStatusCode> As(HttpClient client)
            {
                using var r = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
                return r.StatusCode;
            }
            var expectedForOwner = method == "POST" ? HttpStatusCode.Conflict : HttpStatusCode.OK; // a finished merge cannot be cancelled
            Assert.True(await As(service.Client) == expectedForOwner, $"alice, her {what}");
            Assert.True(await As(bob) == HttpStatusCode.NotFound, $"bob, alice's {what}: must look absent");
            Assert.True(await As(service.Admin) == expectedForOwner, $"admin, alice's {what}");
            Assert.True(await As(service.Anonymous) == HttpStatusCode.Unauthorized, $"no key, {what}");
        }

        var bobsList = await bob.GetFromJsonAsync<JsonElement>("/merges");
        Assert.Equal(0, bobsList.GetProperty("total").GetInt32());
        using var bobMerges = await bob.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } },
        });
        Assert.Contains(inputs.Base, Problems.Text(await Problems.ReadAsync(bobMerges, HttpStatusCode.NotFound)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_are_required_checked_and_revocable_and_only_admins_create_them()
    {
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/merges");
        wrong.Headers.Add("X-Api-Key", "am_not-a-real-key");
        using (var response = await service.Anonymous.SendAsync(wrong))
            await Problems.ReadAsync(response, HttpStatusCode.Unauthorized);
        using (var none = await service.Anonymous.GetAsync("/merges"))
            await Problems.ReadAsync(none, HttpStatusCode.Unauthorized);

        using (var forbidden = await service.Client.PostAsJsonAsync("/keys", new { owner = "carol" }))
            await Problems.ReadAsync(forbidden, HttpStatusCode.Forbidden);
        using var created = await service.Admin.PostAsJsonAsync("/keys", new { owner = "carol" });
        var key = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var secret = key.GetProperty("secret").GetString()!;

        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/merges");
        bearer.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", secret);
        using (var ok = await service.Anonymous.SendAsync(bearer))
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);

        using (var revoked = await service.Admin.DeleteAsync($"/keys/{key.GetProperty("id").GetString()}"))
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        using var after = new HttpRequestMessage(HttpMethod.Get, "/merges");
        after.Headers.Add("X-Api-Key", secret);
        using (var refused = await service.Anonymous.SendAsync(after))
            await Problems.ReadAsync(refused, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task The_job_dashboard_is_for_admins_only()
    {
        using var admin = await service.Admin.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        using var owner = await service.Client.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Forbidden, owner.StatusCode);
        using var anonymous = await service.Anonymous.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}
