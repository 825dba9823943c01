using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Text;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// AdaMerging of causal language models through a whole run (docs/algorithm.md, "Language-model tasks"): prompt data
/// tokenised by the base's tokenizer.json, both objectives, and the report's completion table (NLL, perplexity, exact
/// match) for the merge, the base, each expert and task arithmetic; prompts for a model that predicts no tokens, and
/// tasks of both kinds in one merge, are refused saying so.
/// </summary>
public sealed class LanguageModelMergeRunTests : TempDirectoryTests
{
    private static readonly string[] Sayings =
    [
        "A fool and his money are soon parted", "Every cloud has a silver lining", "The early bird catches the worm",
        "Actions speak louder than words", "Fortune favours the bold", "Still waters run deep", "Time and tide wait for no man",
    ];

    [Theory]
    [InlineData("expert_kl")]
    [InlineData("entropy")]
    public void AdaMerging_learns_on_prompts_and_reports_each_task_s_completion_scores_for_every_model(string objective)
    {
        var tasks = Tasks(adaptation: Prompts("adapt.jsonl", withCompletions: false), evaluation: Prompts("eval.jsonl", withCompletions: true));
        var output = Dir.File("merged");
        var report = MergeRun.Execute(Plans.For("adamerging",
            $$"""{"objective": "{{objective}}", "steps": 3, "batchSize": 7, "learningRate": 0.05, "granularity": "layer"}""", BaseFiles(), tasks), CPU, output);

        Assert.Empty(report.Accuracy);
        Assert.Equal(["a", "b"], report.Completions!.Select(c => c.Task));
        Assert.Equal(3, report.ObjectivePerStep.Count);
        Assert.True(report.ObjectivePerStep[2] < report.ObjectivePerStep[0], $"the objective falls over the steps: {string.Join(", ", report.ObjectivePerStep)}");
        foreach (var row in report.Completions!.Append(report.CompletionsAverage!))
            foreach (var column in new[] { row.Merged, row.Base, row.Individual, row.TaskArithmetic })
            {
                Assert.NotNull(column);
                Assert.True(column.NegativeLogLikelihood > 0 && double.IsFinite(column.NegativeLogLikelihood), $"{row.Task}: NLL {column.NegativeLogLikelihood}");
                Assert.Equal(Math.Exp(column.NegativeLogLikelihood), column.Perplexity, 1e-9 * column.Perplexity);
                Assert.InRange(column.ExactMatch, 0, 1);
            }
        // Task a's expert column is task a's checkpoint scored on its own, independently of the run.
        var expert = ScoreAlone(tasks[0].CheckpointFiles["model.safetensors"], Path.Combine(Dir.Path, "eval.jsonl"));
        Assert.Equal(CompletionQuality.Of(expert).NegativeLogLikelihood, report.Completions![0].Individual!.NegativeLogLikelihood, 1e-6);
        Assert.Contains("\"completions\"", File.ReadAllText(Path.Combine(output, MergeRun.ReportFileName)), StringComparison.Ordinal);
        Assert.Contains("perplexity", File.ReadAllText(Path.Combine(output, "README.md")), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Prompts_for_a_model_that_predicts_no_tokens_and_a_merge_mixing_prompts_with_labelled_text_are_refused()
    {
        var prompts = Prompts("adapt.jsonl", withCompletions: false);
        var classifierBase = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["model.safetensors"] = LlamaTiny.File("llama_classifier", "model.safetensors"),
            ["config.json"] = LlamaTiny.File("llama_classifier", "config.json"),
            ["tokenizer.json"] = LlamaTiny.File("llama3_causal_lm", "tokenizer.json"),
        };
        var classifierTasks = new[] { "t0", "t1" }.Select(n => new PlannedTask(n, new Dictionary<string, string> { ["model.safetensors"] = LlamaTiny.File("llama_classifier", "model.safetensors") },
            null, prompts, null)).ToList();
        var noTokens = Assert.Throws<CheckpointFormatException>(() =>
            MergeRun.Execute(Plans.For("adamerging", """{"steps": 1}""", classifierBase, classifierTasks), CPU, Dir.File("a")));
        Assert.Contains("not a causal language model", noTokens.Message, StringComparison.Ordinal);

        var text = Dir.File("text.jsonl");
        File.WriteAllLines(text, Sayings.Select(s => JsonSerializer.Serialize(new { text = s, label = 0 })));
        var tasks = Tasks(prompts, null);
        tasks[1] = tasks[1] with { AdaptationPath = text };
        var mixed = Assert.Throws<CheckpointFormatException>(() => MergeRun.Execute(Plans.For("adamerging", """{"steps": 1}""", BaseFiles(), tasks), CPU, Dir.File("b")));
        Assert.Contains("all language-model tasks (prompt data) or none", mixed.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Dir.File("b")) && Directory.EnumerateFileSystemEntries(Dir.File("b")).Any(), "nothing is written");
    }

    private static Dictionary<string, string> BaseFiles() => new(StringComparer.Ordinal)
    {
        ["model.safetensors"] = LlamaTiny.File("llama3_causal_lm", "model.safetensors"),
        ["config.json"] = LlamaTiny.File("llama3_causal_lm", "config.json"),
        ["tokenizer.json"] = LlamaTiny.File("llama3_causal_lm", "tokenizer.json"),
    };

    private static List<PlannedTask> Tasks(string? adaptation, string? evaluation) =>
    [
        .. new[] { ("a", "task_a"), ("b", "task_b") }.Select(t => new PlannedTask(t.Item1, new Dictionary<string, string>
        {
            ["model.safetensors"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_lm", "llama3_causal_lm", t.Item2, "model.safetensors"),
            ["config.json"] = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_lm", "llama3_causal_lm", t.Item2, "config.json"),
        }, null, adaptation, evaluation)),
    ];

    /// <summary>The sayings as prompts (their first words) and, for evaluation, completions (the rest).</summary>
    private string Prompts(string name, bool withCompletions)
    {
        var path = Dir.File(name);
        File.WriteAllLines(path, Sayings.Select(s =>
        {
            int split = s.IndexOf(' ', s.IndexOf(' ') + 1);
            return withCompletions ? JsonSerializer.Serialize(new { prompt = s[..split], completion = s[split..] }) : JsonSerializer.Serialize(new { prompt = s });
        }));
        return path;
    }

    /// <summary>A checkpoint's completion scores, from its own weights and the base's tokenizer, without a merge.</summary>
    private static CompletionScores ScoreAlone(string weights, string evaluation)
    {
        using var folder = ModelFolder.Open(new Dictionary<string, string>(BaseFiles()) { ["model.safetensors"] = weights });
        var spec = folder.Spec!;
        using var model = spec.CreateLanguageModel(folder.Weights);
        using var head = new LanguageModelHead(spec.TokenScores(folder.Weights)!);
        var parameters = ModelParameters.Load(folder.Weights, ScalarType.Float32, CPU, spec.ReadsTensor);
        var info = AdaMerging.Domain.Datasets.DatasetInfo.Inspect(evaluation, new UploadLimits());
        var (rows, _) = spec.OpenRows(evaluation, info, "unused");
        using (rows)
        {
            var scores = Evaluation.Completions(model, parameters, head, rows);
            ModelParameters.Dispose(parameters);
            return scores;
        }
    }
}
