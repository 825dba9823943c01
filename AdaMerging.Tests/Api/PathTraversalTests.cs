using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using AdaMerging.Tests.Support;
using SkiaSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// Every place a client's name could become a path: a checkpoint's file names (query, multipart, PUT), a merge's file
/// downloads, and archive entries. Each hostile name is refused (or simply not found), and no file appears outside
/// the content-addressed store.
/// </summary>
public sealed class PathTraversalTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private static readonly string[] Hostile =
    [
        "../x.safetensors", "../../x.safetensors", "/tmp/x.safetensors", "..\\x.safetensors", "sub/x.safetensors",
        "./x.safetensors", ".x.safetensors", "..", "....//x.safetensors", "%2e%2e/x.safetensors",
    ];

    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task No_hostile_name_is_accepted_or_leaves_a_file_anywhere()
    {
        var (theta0, _) = TestCheckpoints.Family(0, rows: 4, cols: 3);
        TestCheckpoints.Save(_files.File("good.safetensors"), theta0);
        var good = await File.ReadAllBytesAsync(_files.File("good.safetensors"));
        var refused = new List<string>();

        foreach (var name in Hostile)
        {
            using (var raw = new ByteArrayContent(good))
            {
                raw.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                refused.Add(await Refused(await service.Client.PostAsync($"/checkpoints?file={Uri.EscapeDataString(name)}", raw), $"?file={name}"));
            }
            using (var form = new MultipartFormDataContent())
            {
                var part = new ByteArrayContent(good);
                part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                form.Add(part, "file", name);
                refused.Add(await Refused(await service.Client.PostAsync("/checkpoints", form), $"multipart {name}"));
            }
        }

        using var opened = await service.Client.PostAsync("/checkpoints/open?name=traversal", null);
        var open = (await opened.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("id").GetString();
        foreach (var name in Hostile)
        {
            using var body = new ByteArrayContent(good);
            refused.Add(await Refused(await service.Client.PutAsync($"/checkpoints/{open}/files/{Uri.EscapeDataString(name)}", body), $"PUT {name}"));
        }

        var merge = await SucceededMergeAsync();
        foreach (var name in Hostile.Append("../../blobs").Append("..%2Fconfig.json"))
        {
            using var response = await service.Client.GetAsync($"{merge}/files/{Uri.EscapeDataString(name)}");
            // ".." is resolved by the client before sending (files/.. is the merge itself): the server never sees a name
            bool resolvedByClient = !response.RequestMessage!.RequestUri!.AbsolutePath.Contains("/files/", StringComparison.Ordinal);
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest || resolvedByClient,
                $"GET files/{name}: {(int)response.StatusCode}");
        }

        var png = Images.Png(4, 4, SKColors.White);
        foreach (var entry in new[] { "../evil.png", "/evil.png", "a/../../evil.png", "..\\evil.png", "C:/evil.png" })
        {
            using var form = new MultipartFormDataContent();
            form.Add(new ByteArrayContent(Images.Zip((entry, png), ("ok/b.png", png))), "file", "images.zip");
            refused.Add(await Refused(await service.Client.PostAsync("/datasets", form), $"zip entry {entry}"));
        }

        Assert.Equal(Hostile.Length * 3 + 5, refused.Count);
        var stray = new[] { service.DataRoot, Path.GetDirectoryName(service.DataRoot)! }
            .SelectMany(d => Directory.EnumerateFiles(d, "*", d == service.DataRoot ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly))
            .Where(f => Path.GetFileName(f) is "x.safetensors" or "evil.png" || Path.GetFileName(f).StartsWith(".x", StringComparison.Ordinal))
            .ToList();
        Assert.Empty(stray);
    }

    private static async Task<string> Refused(HttpResponseMessage response, string what)
    {
        using (response)
        {
            var status = (int)response.StatusCode;
            Assert.True(status is >= 400 and < 500, $"{what}: {status} {await response.Content.ReadAsStringAsync()}");
            if (status == 400) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            return what;
        }
    }

    private async Task<string> SucceededMergeAsync()
    {
        var (theta0, tasks) = TestCheckpoints.Family(1, seed: 3, rows: 4, cols: 3);
        TestCheckpoints.Save(_files.File("b.safetensors"), theta0);
        TestCheckpoints.Save(_files.File("t.safetensors"), tasks[0]);
        var baseId = (await service.UploadAsync(_files.File("b.safetensors"))).GetProperty("id").GetString();
        var taskId = (await service.UploadAsync(_files.File("t.safetensors"))).GetProperty("id").GetString();
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = baseId, tasks = new[] { new { name = "t", checkpoint = taskId } },
        });
        var location = submitted.Headers.Location!.ToString();
        Assert.Equal("succeeded", (await service.WaitForMergeAsync(location)).GetProperty("status").GetString());
        return location;
    }
}
