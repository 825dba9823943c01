using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>options.coefficients: merging with given coefficients skips the optimisation and reproduces a learned merge.</summary>
public sealed class GivenCoefficientsTests : TempDirectoryTests
{
    private readonly Dictionary<string, string> _base = TinyTasks.HuggingFaceBase();
    private readonly List<PlannedTask> _tasks;

    public GivenCoefficientsTests() => _tasks = TinyTasks.Write(Dir, seed: 77);

    private (MergeReport Report, byte[] Model, string Output) Run(string method, string optionsJson)
    {
        var output = Dir.File("run-" + Guid.NewGuid().ToString("N")[..8]);
        var report = MergeRun.Execute(Plans.For(method, optionsJson, _base, _tasks), torch.CPU, output);
        return (report, File.ReadAllBytes(Path.Combine(output, "model.safetensors")), output);
    }

    [Fact]
    public void An_earlier_merge_s_coefficients_json_given_back_reproduces_its_model_bit_for_bit_without_optimising()
    {
        var learned = Run("adamerging", """{"steps": 6, "batchSize": 4, "learningRate": 0.05, "seed": 2}""");
        var coefficients = File.ReadAllText(Path.Combine(learned.Output, "coefficients.json"));
        var reused = Run("adamerging", $$"""{"coefficients": {{coefficients}}}""");

        Assert.Equal(learned.Model, reused.Model);
        Assert.Empty(reused.Report.ObjectivePerStep);
        Assert.False(reused.Report.PhaseSeconds.ContainsKey("optimise"));
        Assert.Equal(learned.Report.Accuracy.Select(a => a.Merged), reused.Report.Accuracy.Select(a => a.Merged));
        Assert.Equal(learned.Report.Coefficients!.SelectMany(c => c.Lambda), reused.Report.Coefficients!.SelectMany(c => c.Lambda));
        var recorded = JsonSerializer.Serialize(reused.Report.Options["coefficients"]);
        Assert.Contains("\"layer\":\"vision_model.embeddings.class_embedding\"", recorded, StringComparison.Ordinal);
    }

    [Fact]
    public void Task_wise_coefficients_of_0_3_give_task_arithmetic_s_model_and_values_are_clamped_as_learned_ones()
    {
        var arithmetic = Run("task_arithmetic", """{"lambda": 0.3}""");
        Assert.Equal(arithmetic.Model, Run("adamerging", """{"granularity": "task", "coefficients": [0.3, 0.3]}""").Model);
        Assert.Equal(Run("adamerging", """{"granularity": "task", "coefficients": [1, 1]}""").Model,
            Run("adamerging", """{"granularity": "task", "coefficients": [1.7, 4]}""").Model);
    }

    [Fact]
    public void Coefficients_whose_rows_do_not_match_the_layers_are_refused_naming_them()
    {
        var error = Assert.Throws<ArgumentException>(() => Run("adamerging", """{"coefficients": {"vision_model.embeddings.class_embedding": [0.2, 0.2], "nonsense": [0.1, 0.1]}}"""));
        Assert.Contains("not a layer: 'nonsense'", error.Message, StringComparison.Ordinal);
        Assert.Contains("missing: 'vision_model.embeddings.patch_embedding.weight'", error.Message, StringComparison.Ordinal);
        var count = Assert.Throws<ArgumentException>(() => Run("adamerging", """{"granularity": "task", "coefficients": [0.3, 0.3, 0.3]}"""));
        Assert.Contains("3 value(s) per row for 2 task(s)", count.Message, StringComparison.Ordinal);
    }
}
