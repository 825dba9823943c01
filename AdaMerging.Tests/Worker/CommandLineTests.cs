using System.Text.Json;
using AdaMerging.Tests.Support;
using AdaMerging.Worker.Cli;
using TorchSharp;

namespace AdaMerging.Tests.Worker;

/// <summary>The worker's one-off `run`: the API's request JSON with local paths, no database, the job's code path.</summary>
public sealed class CommandLineTests : TempDirectoryTests
{

    [Fact]
    public async Task Run_executes_a_request_file_against_local_files_and_writes_the_folder_and_report()
    {
        Directory.CreateDirectory(Dir.File("base"));
        File.Copy(ClipTiny.File("model.safetensors"), Dir.File("base/model.safetensors"));
        File.Copy(ClipTiny.File("config.json"), Dir.File("base/config.json"));
        using (var folder = ClipTiny.OpenHuggingFace())
            TestCheckpoints.Save(Dir.File("tuned.safetensors"), folder.Weights.Tensors.ToDictionary(t => t.Name, t =>
                folder.Weights.Read(t.Name) is var w && w.is_floating_point() ? w.Times(1.01) : w));
        TestCheckpoints.Save(Dir.File("data.safetensors"), new Dictionary<string, torch.Tensor>
        {
            ["pixel_values"] = torch.randn(6, 3, 16, 16),
            ["labels"] = torch.tensor(new long[] { 0, 1, 2, 3, 4, 0 }),
        });
        await File.WriteAllTextAsync(Dir.File("request.json"), JsonSerializer.Serialize(new
        {
            method = "adamerging", @base = "base",
            tasks = new[] { new { name = "a", checkpoint = "tuned.safetensors", head = ClipTiny.File("head.safetensors"), adaptationData = "data.safetensors", evaluationData = "data.safetensors" } },
            options = new { steps = 2, batchSize = 3 },
        }));

        Assert.Equal(0, await Commands.RunAsync(["run", Dir.File("request.json"), "--out", Dir.File("out"), "--device", "cpu"]));
        Assert.True(File.Exists(Dir.File("out/model.safetensors")));
        var report = JsonDocument.Parse(await File.ReadAllTextAsync(Dir.File("out/report.json"))).RootElement;
        Assert.Equal(2, report.GetProperty("objectivePerStep").GetArrayLength());
    }

    [Fact]
    public async Task A_request_naming_a_missing_file_fails_with_a_message_and_exit_code_1()
    {
        await File.WriteAllTextAsync(Dir.File("bad.json"), """{"method":"task_arithmetic","base":"nowhere","tasks":[{"name":"a","checkpoint":"nothing"}]}""");
        Assert.Equal(1, await Commands.RunAsync(["run", Dir.File("bad.json"), "--out", Dir.File("out")]));
    }
}
