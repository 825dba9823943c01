using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>A submit and a delete of one of its inputs, sent at the same moment, are serialised (issue 15).</summary>
public sealed class DeleteRaceTests(ServiceFixture service) : TempDirectoryTests, IClassFixture<ServiceFixture>
{
    [Fact]
    public async Task A_delete_racing_a_submit_never_leaves_a_merge_queued_on_a_deleted_input()
    {
        var inputs = await TinyService.UploadAsync(service, Dir, tasks: 1, seed: 121);
        var model = await File.ReadAllBytesAsync(ClipTiny.File("model.safetensors"));
        var config = await File.ReadAllBytesAsync(ClipTiny.File("config.json"));
        int queued = 0, deleted = 0;
        for (int round = 0; round < 12; round++)
        {
            var task = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", model), ("config.json", config));
            var submit = service.Client.PostAsJsonAsync("/merges", new
            {
                method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "t", checkpoint = task } },
            });
            var delete = service.Client.DeleteAsync($"/checkpoints/{task}");
            using var submitted = await submit;
            using var removed = await delete;
            var outcome = $"round {round}: submit {(int)submitted.StatusCode}, delete {(int)removed.StatusCode}";
            if (submitted.StatusCode == HttpStatusCode.Accepted)
            {
                Assert.True(removed.StatusCode == HttpStatusCode.Conflict, outcome); // the merge was queued first: its input stays
                queued++;
                var id = (await submitted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
                Assert.Equal("succeeded", (await service.WaitForMergeAsync($"/merges/{id}")).GetProperty("status").GetString());
            }
            else
            {
                Assert.True(removed.StatusCode == HttpStatusCode.NoContent, outcome); // the delete came first: the submit found no input
                Assert.True(submitted.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.UnprocessableEntity, outcome);
                deleted++;
            }
        }
        Assert.Equal(12, queued + deleted);
    }
}
