using System.Net;
using System.Net.Http.Headers;
using AdaMerging.Tests.Support;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Tests.Api;

/// <summary>Every case of the malformed corpus is refused with a 400 that says why, and leaves nothing behind.</summary>
public sealed class MalformedUploadTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    [Fact]
    public void The_corpus_holds_at_least_fifty_cases()
    {
        Assert.True(MalformedInputs.All.Count >= 50, $"only {MalformedInputs.All.Count} cases");
    }

    [Theory]
    [MemberData(nameof(MalformedInputs.Names), MemberType = typeof(MalformedInputs))]
    public async Task Is_refused_with_a_clear_message_and_nothing_kept(string reason)
    {
        var input = MalformedInputs.All[reason];
        await using var db = service.NewDbContext();
        var before = (await db.Checkpoints.CountAsync(), await db.Heads.CountAsync(), await db.Datasets.CountAsync());
        var blobsBefore = BlobCount();

        using var content = new MultipartFormDataContent();
        foreach (var (fileName, bytes) in input.Files)
        {
            var part = new ByteArrayContent(bytes);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Add(part, "file", fileName);
        }
        using var response = await service.Client.PostAsync(input.Endpoint, content);

        var problem = await Problems.ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(input.Expected, Problems.Text(problem), StringComparison.Ordinal);
        var traceId = problem.GetProperty("traceId").GetString()!;
        Assert.Contains(service.ApiLog.Lines, l => l.Contains(traceId, StringComparison.Ordinal) && l.Contains("responded 400", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "tmp")));
        Assert.Equal(blobsBefore, BlobCount());
        Assert.Equal(before, (await db.Checkpoints.CountAsync(), await db.Heads.CountAsync(), await db.Datasets.CountAsync()));
    }

    private int BlobCount() => Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "sha256"), "*", SearchOption.AllDirectories).Length;
}
