using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>The walking skeleton's slice over HTTP: upload, submit, the worker merges, poll, download.</summary>
public sealed class EndToEndMergeTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task A_task_arithmetic_merge_runs_on_the_worker_and_downloads_the_exact_tensors()
    {
        var (theta0, tasks) = TestCheckpoints.Family(3, seed: 11, rows: 16, cols: 12);
        TestCheckpoints.Save(_files.File("base.safetensors"), theta0);
        for (int i = 0; i < tasks.Count; i++) TestCheckpoints.Save(_files.File($"task{i}.safetensors"), tasks[i]);

        var baseId = (await service.UploadAsync(_files.File("base.safetensors"))).GetProperty("id").GetString();
        var taskIds = new List<string>();
        for (int i = 0; i < tasks.Count; i++)
            taskIds.Add((await service.UploadAsync(_files.File($"task{i}.safetensors"))).GetProperty("id").GetString()!);

        using var submitted = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic",
            @base = baseId,
            tasks = taskIds.Select((id, i) => new { name = $"task{i}", checkpoint = id }),
            options = new { lambda = 0.4 },
        });
        Assert.Equal(HttpStatusCode.Accepted, submitted.StatusCode);
        var location = submitted.Headers.Location!.ToString();
        var merge = await service.WaitForMergeAsync(location);
        Assert.Equal("succeeded", merge.GetProperty("status").GetString());

        var downloaded = _files.File("merged.safetensors");
        await File.WriteAllBytesAsync(downloaded, await service.Client.GetByteArrayAsync(merge.GetProperty("links").GetProperty("model").GetString()));
        using var merged = SafetensorsFile.Open(downloaded);
        foreach (var name in new[] { "encoder.weight", "encoder.bias" })
        {
            var expected = theta0[name].Plus(tasks.Select(t => t[name] - theta0[name]).Aggregate((a, b) => a.Plus(b)).Times(0.4));
            using var actual = merged.Read(name);
            Assert.True(expected.allclose(actual, rtol: 1e-6, atol: 1e-6), $"{name}: max diff {(expected - actual).abs().max().item<float>()}");
        }
        Assert.Equal(theta0["encoder.position_ids"].data<long>().ToArray(), merged.Read("encoder.position_ids").data<long>().ToArray());
    }

    [Fact]
    public async Task A_multipart_upload_is_stored_under_its_sha256_and_reports_what_it_holds()
    {
        var (theta0, _) = TestCheckpoints.Family(0, rows: 4, cols: 3);
        var path = _files.File("single.safetensors");
        TestCheckpoints.Save(path, theta0);
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(path));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "single.safetensors");
        using var response = await service.Client.PostAsync("/checkpoints", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(path)));
        Assert.Equal(sha, body.GetProperty("files")[0].GetProperty("sha256").GetString());
        Assert.Equal("single.safetensors", body.GetProperty("files")[0].GetProperty("fileName").GetString());
        Assert.Equal("single.safetensors", body.GetProperty("name").GetString());
        Assert.Equal("sealed", body.GetProperty("status").GetString());
        Assert.Equal(3, body.GetProperty("tensorCount").GetInt32());
        Assert.Equal(4 * 3 + 4 + 4, body.GetProperty("parameterCount").GetInt64());
        Assert.True(File.Exists(Path.Combine(service.DataRoot, "blobs", "sha256", sha[..2], sha)));
        var fetched = await service.Client.GetFromJsonAsync<JsonElement>(response.Headers.Location!);
        Assert.Equal(sha, fetched.GetProperty("files")[0].GetProperty("sha256").GetString());
    }

    [Fact]
    public async Task A_file_that_is_not_safetensors_gets_a_400_saying_why_and_leaves_nothing_behind()
    {
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes("root:x:0:0:root:/root:/bin/bash\n"));
        using var response = await service.Client.PostAsync("/checkpoints?name=passwd", content);
        var problem = await Problems.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("not a valid safetensors file", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "tmp")));
        using var db = service.NewDbContext();
        Assert.DoesNotContain(db.Checkpoints, c => c.Name == "passwd");
    }

    [Fact]
    public async Task An_unknown_checkpoint_id_is_a_404_naming_it_at_each_place_the_request_names_it()
    {
        var (theta0, _) = TestCheckpoints.Family(0);
        TestCheckpoints.Save(_files.File("b.safetensors"), theta0);
        var baseId = (await service.UploadAsync(_files.File("b.safetensors"))).GetProperty("id").GetString();
        var unknown = Guid.NewGuid();
        using var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = baseId,
            tasks = new[] { new { name = "a", checkpoint = unknown }, new { name = "b", checkpoint = Guid.Parse(baseId!) }, new { name = "c", checkpoint = unknown } },
        });
        var problem = await Problems.ReadAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(unknown.ToString(), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal([("/tasks/0/checkpoint", "not_found"), ("/tasks/2/checkpoint", "not_found")], Problems.Errors(problem).Select(e => (e.Pointer, e.Code)));
    }

    [Fact]
    public async Task Checkpoints_whose_shapes_differ_are_refused_at_submit_naming_the_first_differences()
    {
        var (theta0, _) = TestCheckpoints.Family(0, rows: 6, cols: 5);
        var (_, other) = TestCheckpoints.Family(1, rows: 6, cols: 7);
        TestCheckpoints.Save(_files.File("b.safetensors"), theta0);
        TestCheckpoints.Save(_files.File("o.safetensors"), other[0]);
        var baseId = (await service.UploadAsync(_files.File("b.safetensors"))).GetProperty("id").GetString();
        var otherId = (await service.UploadAsync(_files.File("o.safetensors"))).GetProperty("id").GetString();
        using var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "task_arithmetic", @base = baseId, tasks = new[] { new { name = "wide", checkpoint = otherId } },
        });
        var problem = await Problems.ReadAsync(response, HttpStatusCode.UnprocessableEntity);
        Assert.Contains(Problems.Errors(problem), e => e.Detail.Contains("'encoder.weight' with shape [6, 7] where the base has [6, 5]", StringComparison.Ordinal)
            && e is { Pointer: "/tasks/0/checkpoint", Code: "checkpoint_mismatch" });
    }

    [Fact]
    public async Task A_request_with_several_problems_names_them_all()
    {
        using var response = await service.Client.PostAsJsonAsync("/merges", new
        {
            method = "magic", @base = Guid.Empty, tasks = Array.Empty<object>(), options = new { lambda = 99 },
        });
        var problem = await Problems.ReadAsync(response, HttpStatusCode.BadRequest);
        var errors = Problems.Errors(problem);
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Detail.Contains("method 'magic' is unknown", StringComparison.Ordinal) && e is { Pointer: "/method", Code: "unknown" });
        Assert.Contains(errors, e => e.Detail.Contains("options.lambda", StringComparison.Ordinal) && e is { Pointer: "/options/lambda", Code: "invalid" });
        Assert.Contains(errors, e => e is { Pointer: "/base", Code: "required" });
        Assert.Contains(errors, e => e is { Pointer: "/tasks", Code: "required" });
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"method":"task_arithmetic","base":"not-a-guid","tasks":[]}""")]
    [InlineData("[]")]
    public async Task Malformed_json_is_a_400_problem_not_a_crash(string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await service.Client.PostAsync("/merges", content);
        var problem = await Problems.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task Unknown_merges_are_404_and_an_unfinished_merge_has_no_model_yet()
    {
        using var missing = await service.Client.GetAsync($"/merges/{Guid.NewGuid()}");
        await Problems.ReadAsync(missing, HttpStatusCode.NotFound);

        var queued = new AdaMerging.Domain.Jobs.MergeJob(Guid.NewGuid(), "task_arithmetic", "{}", DateTimeOffset.UtcNow);
        queued.OwnedBy("alice");
        await using (var db = service.NewDbContext())
        {
            db.Merges.Add(queued);
            await db.SaveChangesAsync();
        }
        using var model = await service.Client.GetAsync($"/merges/{queued.Id}/model");
        var problem = await Problems.ReadAsync(model, HttpStatusCode.Conflict);
        Assert.Contains("queued", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_merge_whose_checkpoint_file_vanished_fails_and_says_why()
    {
        var (theta0, tasks) = TestCheckpoints.Family(1, seed: 3);
        TestCheckpoints.Save(_files.File("b.safetensors"), theta0);
        TestCheckpoints.Save(_files.File("t.safetensors"), tasks[0]);
        var baseBody = await service.UploadAsync(_files.File("b.safetensors"));
        var taskId = (await service.UploadAsync(_files.File("t.safetensors"))).GetProperty("id").GetString();
        var sha = baseBody.GetProperty("files")[0].GetProperty("sha256").GetString()!;

        // Hold the worker back by submitting while the file exists, then remove it before the worker reads it:
        // delete first and re-check that submit itself refuses, then test the worker's refusal through the queue.
        var blob = Path.Combine(service.DataRoot, "blobs", "sha256", sha[..2], sha);
        var request = new AdaMerging.Infrastructure.Contract.MergeRequest("task_arithmetic", Guid.Parse(baseBody.GetProperty("id").GetString()!),
            [new AdaMerging.Infrastructure.Contract.MergeTask("t", Guid.Parse(taskId!))], null);
        var job = new AdaMerging.Domain.Jobs.MergeJob(Guid.NewGuid(), "task_arithmetic",
            JsonSerializer.Serialize(request, JsonSerializerOptions.Web), DateTimeOffset.UtcNow);
        job.OwnedBy("alice");
        await using (var db = service.NewDbContext())
        {
            db.Merges.Add(job);
            await db.SaveChangesAsync();
        }
        File.Delete(blob);
        service.ApiServices.GetRequiredService<AdaMerging.Infrastructure.Queue.MergeScheduler>().Enqueue(job.Id, job.Method);

        var merge = await service.WaitForMergeAsync($"/merges/{job.Id}");
        Assert.Equal("failed", merge.GetProperty("status").GetString());
        Assert.Contains("base checkpoint", merge.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("lost its file", merge.GetProperty("error").GetString(), StringComparison.Ordinal);
    }
}
