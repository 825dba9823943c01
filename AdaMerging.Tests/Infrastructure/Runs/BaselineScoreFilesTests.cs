using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// The baseline columns remembered between merges (docs/algorithm.md, "Evaluation and the report"): a second merge
/// over the same inputs reads the pre-trained, individual and task-arithmetic scores instead of evaluating them, and
/// other inputs make other keys.
/// </summary>
public sealed class BaselineScoreFilesTests : TempDirectoryTests
{
    [Fact]
    public void A_second_merge_over_the_same_inputs_reads_every_baseline_score_and_evaluates_only_its_merged_model()
    {
        var baseFiles = TinyTasks.HuggingFaceBase();
        var tasks = TinyTasks.Write(Dir, seed: 8);
        string baselines = Dir.File("baselines");
        var first = MergeRun.Execute(Plans.For("task_arithmetic", """{"lambda": 0.5}""", baseFiles, tasks), torch.CPU, Dir.File("first"), baselines: baselines);
        var files = Directory.GetFiles(baselines, "*.json");
        Assert.Equal(3 * tasks.Count, files.Length);   // base, individual and task arithmetic per task
        // Overwrite every remembered score with a value no evaluation gives: the next report must show it.
        foreach (var file in files) File.WriteAllText(file, "0.125");
        var second = MergeRun.Execute(Plans.For("ties", "{}", baseFiles, tasks), torch.CPU, Dir.File("second"), baselines: baselines);
        Assert.All(second.Accuracy, row =>
        {
            Assert.Equal(0.125, row.Base);
            Assert.Equal(0.125, row.Individual);
            Assert.Equal(0.125, row.TaskArithmetic);
            Assert.NotEqual(0.125, row.Merged);
        });
        Assert.All(first.Accuracy, row => Assert.NotEqual(0.125, row.Base));
    }

    [Fact]
    public void Other_tasks_or_other_options_that_change_a_baseline_make_other_keys_and_the_batch_size_does_not()
    {
        var baseFiles = TinyTasks.HuggingFaceBase();
        var tasks = TinyTasks.Write(Dir, seed: 8);
        var plan = Plans.For("task_arithmetic", "{}", baseFiles, tasks);
        var record = RunRecords.For(plan, torch.CPU);
        var keys = BaselineScoreFiles.KeysFor(plan, record);
        var columns = Enum.GetValues<BaselineColumn>();
        var all = columns.SelectMany(c => Enumerable.Range(0, tasks.Count).Select(k => keys(c, k))).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(keys(BaselineColumn.Base, 0), BaselineScoreFiles.KeysFor(Plans.For("ties", """{"evaluationBatchSize": 7}""", baseFiles, tasks), record)(BaselineColumn.Base, 0));
        var excluded = Plans.For("task_arithmetic", """{"exclude": ["^visual_projection"]}""", baseFiles, tasks);
        Assert.NotEqual(keys(BaselineColumn.Individual, 0), BaselineScoreFiles.KeysFor(excluded, RunRecords.For(excluded, torch.CPU))(BaselineColumn.Individual, 0));
        var fewer = Plans.For("task_arithmetic", "{}", baseFiles, tasks.Take(1).ToList());
        var fewerKeys = BaselineScoreFiles.KeysFor(fewer, RunRecords.For(fewer, torch.CPU));
        Assert.NotEqual(keys(BaselineColumn.TaskArithmetic, 0), fewerKeys(BaselineColumn.TaskArithmetic, 0));
        Assert.Equal(keys(BaselineColumn.Base, 0), fewerKeys(BaselineColumn.Base, 0));   // the pre-trained model on task 0 is the same
    }

    [Fact]
    public void An_unreadable_or_missing_score_is_a_miss_and_a_stored_one_reads_back()
    {
        var store = new BaselineScoreFiles(Dir.File("scores"));
        Assert.False(store.TryGet<double?>("missing", out _));
        store.Put("k", new TaskAccuracy("t", 0.5, 0.25, null, 1));
        Assert.True(store.TryGet<TaskAccuracy>("k", out var read));
        Assert.Equal(new TaskAccuracy("t", 0.5, 0.25, null, 1), read);
        File.WriteAllText(Dir.File("scores/bad.json"), "{not json");
        Assert.False(store.TryGet<TaskAccuracy>("bad", out _));
        Assert.Empty(Directory.GetFiles(Dir.File("scores"), "*.tmp"));
    }
}
