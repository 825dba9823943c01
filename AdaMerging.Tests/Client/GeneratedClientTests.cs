using System.Security.Cryptography;
using AdaMerging.Client;
using AdaMerging.Client.Models;
using AdaMerging.Tests.Support;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;

namespace AdaMerging.Tests.Client;

/// <summary>
/// The client Kiota generates from docs/openapi.json at build (AdaMerging.Client) drives a whole merge: uploads,
/// submit, poll, download and report, and gets typed problems, with no hand-written HTTP (issue 15).
/// </summary>
public sealed class GeneratedClientTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    /// <summary>
    /// The key travels as the HttpClient's default header: Kiota's API-key provider sends keys over https only, and the
    /// in-process test server speaks plain http.
    /// </summary>
    private async Task<(AdaMergingApiClient Api, HttpClient Http)> ClientAsync()
    {
        var http = await service.ClientForAsync("generated-client");
        var adapter = new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http) { BaseUrl = http.BaseAddress!.ToString().TrimEnd('/') };
        return (new AdaMergingApiClient(adapter), http);
    }

    private static FileStream Open(string path) => File.OpenRead(path);

    [Fact]
    public async Task The_generated_client_uploads_merges_polls_downloads_and_reads_the_report()
    {
        var (api, http) = await ClientAsync();
        using var _ = http;

        // The base file by file (open, PUT, seal); tasks, datasets and the head in one request each.
        var opened = await api.Checkpoints.Open.PostAsync(c => c.QueryParameters.Name = "base");
        var baseId = opened!.Id!.Value;
        await using (var config = Open(ClipTiny.File("config.json")))
            await api.Checkpoints[baseId].Files["config.json"].PutAsync(config);
        await using (var model = Open(ClipTiny.File("model.safetensors")))
            await api.Checkpoints[baseId].Files["model.safetensors"].PutAsync(model);
        var sealedBase = await api.Checkpoints[baseId].Seal.PostAsync();
        Assert.Equal(CheckpointStatus.Sealed, sealedBase!.Status);

        HeadResponse? head;
        await using (var headFile = Open(ClipTiny.File("head.safetensors")))
            head = await api.Heads.PostAsync(headFile, "application/octet-stream", c => c.QueryParameters.Name = "head");
        var tasks = new List<MergeTask>();
        foreach (var (k, (modelPath, dataPath)) in TinyService.TaskFiles(Dir, tasks: 2, seed: 211).Index())
        {
            CheckpointResponse? checkpoint;
            await using (var model = Open(modelPath))
                checkpoint = await api.Checkpoints.PostAsync(model, "application/octet-stream", c => c.QueryParameters.Name = $"task{k}");
            DatasetResponse? data;
            await using (var dataset = Open(dataPath))
                data = await api.Datasets.PostAsync(dataset, "application/octet-stream", c => c.QueryParameters.Name = $"data{k}");
            tasks.Add(new MergeTask { Name = $"task{k}", Checkpoint = checkpoint!.Id, Head = head!.Id, AdaptationData = data!.Id, EvaluationData = data.Id });
        }

        MergeResponse? submitted;
        try
        {
            submitted = await api.Merges.PostAsync(new MergeRequest
            {
                Method = MergeRequest_method.Adamerging, Base = baseId, Tasks = tasks, Options = new MergeOptions { Steps = 5, BatchSize = 4 },
            });
        }
        catch (ProblemDetails problem)
        {
            Assert.Fail($"{problem.Status} {problem.Detail}: {string.Join("; ", (problem.Errors ?? []).Select(e => $"{e.Pointer} {e.Code}: {e.Detail}"))}");
            throw;
        }
        Assert.Equal(MergeStatus.Queued, submitted!.Status);
        var merge = submitted;
        await Poll.UntilAsync(async () =>
        {
            if (merge!.Status is not (MergeStatus.Queued or MergeStatus.Running)) return true;
            merge = await api.Merges[submitted.Id!.Value].GetAsync();
            return false;
        }, TimeSpan.FromMinutes(3), () => "the merge did not finish", everyMilliseconds: 200);
        Assert.True(merge.Status == MergeStatus.Succeeded, merge.Error);

        await using var downloaded = await api.Merges[merge.Id!.Value].Model.GetAsync();
        var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(downloaded!));
        Assert.Equal(merge.Files!.Single(f => f.FileName == "model.safetensors").Sha256, sha);
        var report = await api.Merges[merge.Id!.Value].Report.GetAsync();
        Assert.Equal("adamerging", report!.Method);
        Assert.Equal(["task0", "task1"], report.TaskNames);
        Assert.Equal(5, report.ObjectivePerStep!.Count);
        Assert.All(report.Accuracy!, a => Assert.InRange(a.Merged!.Value, 0, 1));

        var missing = await Assert.ThrowsAsync<ProblemDetails>(() => api.Merges[Guid.NewGuid()].GetAsync());
        Assert.Equal(404, missing.ResponseStatusCode);
        Assert.Contains("does not exist", missing.Detail, StringComparison.Ordinal);

        // A refusal's problems come typed: where each is (a JSON Pointer into the request) and its code as an enum.
        var refused = await Assert.ThrowsAsync<ProblemDetails>(() => api.Merges.PostAsync(new MergeRequest
        {
            Method = MergeRequest_method.Adamerging, Base = baseId, Tasks = [tasks[0], new MergeTask { Name = "task0", Checkpoint = tasks[1].Checkpoint }],
            Options = new MergeOptions { Steps = 200000 },
        }));
        Assert.Equal(400, refused.ResponseStatusCode);
        Assert.Contains(refused.Errors!, e => e is { Pointer: "/options/steps", Code: ProblemEntry_code.Invalid });
        Assert.Contains(refused.Errors!, e => e is { Pointer: "/tasks/1/name", Code: ProblemEntry_code.Duplicate });
        Assert.Contains(refused.Errors!, e => e is { Pointer: "/tasks/1/adaptationData", Code: ProblemEntry_code.Required });
    }
}
