using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// A task fine-tuned with tokens added to its vocabulary (docs/algorithm.md, "Vocabulary"): refused naming the
/// embedding and output matrices and both row counts, or, under embeddingRows: base, merged on the base's rows with the
/// added ones dropped and listed in the report and the model card, in memory and streamed.
/// </summary>
public sealed class VocabularyRowsTests : TempDirectoryTests
{
    private const long Vocabulary = 10, Added = 3;

    [Fact]
    public void A_task_with_added_tokens_is_refused_naming_the_matrices_and_both_row_counts()
    {
        var (baseFiles, tasks) = Family();
        var e = Assert.Throws<IncompatibleCheckpointsException>(() =>
            MergeRun.Execute(Plans.For("task_arithmetic", "{}", baseFiles, tasks), CPU, Dir.File("merged")));
        Assert.Equal([
            $"task 'grown' has 'model.embed_tokens.weight' with {Vocabulary + Added} rows where the base has {Vocabulary} (tokens added to its vocabulary): the option embeddingRows: base merges the base's rows and drops the added ones",
            $"task 'grown' has 'lm_head.weight' with {Vocabulary + Added} rows where the base has {Vocabulary} (tokens added to its vocabulary): the option embeddingRows: base merges the base's rows and drops the added ones",
        ], e.Differences);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(200L)]
    public void Under_embeddingRows_base_the_base_s_rows_are_merged_and_the_dropped_ones_reported(long streamWorkingBytes)
    {
        var (baseFiles, tasks) = Family();
        var output = Dir.File("merged");
        var report = MergeRun.Execute(Plans.For("task_arithmetic", "{\"lambda\": 0.5, \"embeddingRows\": \"base\"}", baseFiles, tasks), CPU, output,
            streamWorkingBytes: streamWorkingBytes);

        Assert.Equal([new DroppedRows("grown", "model.embed_tokens.weight", Vocabulary + Added, Vocabulary),
            new DroppedRows("grown", "lm_head.weight", Vocabulary + Added, Vocabulary)], report.DroppedRows);
        using var merged = SafetensorsFile.Open(Path.Combine(output, "model.safetensors"));
        using var theta0 = SafetensorsFile.Open(baseFiles["model.safetensors"]);
        var sources = tasks.Select(t => SafetensorsFile.Open(t.CheckpointFiles["model.safetensors"])).ToList();
        foreach (var name in new[] { "model.embed_tokens.weight", "lm_head.weight", "layer.weight" })
        {
            using var scope = NewDisposeScope();
            var b = theta0.Read(name);
            var expected = sources.Select(s => s.Read(name).narrow(0, 0, b.shape[0]).Plus(b.neg())).Aggregate((x, y) => x.Plus(y)).Times(0.5).Plus(b);
            Assert.True(merged.Read(name).allclose(expected, rtol: 1e-6, atol: 1e-6), name);
        }
        sources.ForEach(s => s.Dispose());
        Assert.Contains($"| grown | `lm_head.weight` | {Vocabulary + Added} | {Vocabulary} |", File.ReadAllText(Path.Combine(output, "README.md")), StringComparison.Ordinal);
    }

    /// <summary>A base with an embedding, an output matrix and a layer; a task like it, and one whose vocabulary grew by <see cref="Added"/> tokens.</summary>
    private (Dictionary<string, string> Base, List<PlannedTask> Tasks) Family()
    {
        var g = new Generator(11);
        Dictionary<string, Tensor> Model(long vocabulary) => new()
        {
            ["model.embed_tokens.weight"] = randn([vocabulary, 4], generator: g),
            ["layer.weight"] = randn([4, 4], generator: g),
            ["lm_head.weight"] = randn([vocabulary, 4], generator: g),
        };
        string Save(string name, long vocabulary)
        {
            var path = Dir.File($"{name}.safetensors");
            TestCheckpoints.Save(path, Model(vocabulary));
            return path;
        }
        PlannedTask Task(string name, long vocabulary) =>
            new(name, new Dictionary<string, string> { ["model.safetensors"] = Save(name, vocabulary) }, null, null, null);
        return (new() { ["model.safetensors"] = Save("base", Vocabulary) }, [Task("same", Vocabulary), Task("grown", Vocabulary + Added)]);
    }
}
