using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Methods;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>Every method through the merge run on the tiny CLIP, with heads and labeled data, as the worker runs them.</summary>
public sealed class MergeRunTests : TempDirectoryTests
{
    private readonly Dictionary<string, string> _base;
    private readonly List<PlannedTask> _tasks;

    public MergeRunTests()
    {
        _base = TinyTasks.HuggingFaceBase();
        _tasks = TinyTasks.Write(Dir, seed: 8);
    }

    /// <summary>Non-default options for some methods; every registered method gets a case (its defaults when it has none here).</summary>
    private static readonly Dictionary<string, string[]> CaseOptions = new(StringComparer.Ordinal)
    {
        ["task_arithmetic"] = ["""{"lambda": 0.5}"""],
        ["ties"] = ["""{"topK": 0.3, "tiesMerge": "mean"}"""],
        ["dare"] = ["""{"dropRate": 0.5, "dareBase": "ties", "seed": 2}"""],
        ["tsv"] = ["""{"alpha": 0.8}"""],
        ["iso_cts"] = ["""{"commonSpaceFraction": 0.5}"""],
        ["wudi"] = ["""{"iterations": 20, "learningRate": 1e-4, "excludeMatrices": ["fc2"]}"""],
        ["regmean"] = ["""{"regmeanExamples": 8}"""],
        ["adamerging"] =
        [
            """{"granularity": "task", "steps": 3, "batchSize": 4}""",
            """{"vectors": "tsv", "granularity": "task", "steps": 3, "batchSize": 4, "batchesPerStep": 2}""",
            """{"granularity": "layer", "layerUnit": "block", "plus": true, "steps": 3, "batchSize": 4}""",
            """{"vectors": "tsv", "granularity": "task", "lambdaRange": [0, 2], "lambdaBound": "project", "steps": 3, "batchSize": 4}""",
        ],
        ["adarank"] =
        [
            """{"steps": 3, "batchSize": 4, "learningRate": 0.05}""",
            """{"base": "cart", "initialLambda": 2.3, "initialRankRatio": 0.16, "maskEstimator": "sigmoid", "steps": 2, "batchSize": 4}""",
            """{"base": "tsv", "initialLambda": 1, "steps": 2, "batchSize": 4, "checkpointing": true}""",
        ],
    };

    public static TheoryData<string, string> EveryMethod()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in MergeMethods.All)
            foreach (var options in CaseOptions.GetValueOrDefault(method.Name, ["{}"])) data.Add(method.Name, options);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryMethod))]
    public void Each_method_writes_the_model_folder_and_a_full_report(string method, string optionsJson)
    {
        var output = Dir.File("out");
        var phases = new List<MergePhase>();
        var report = MergeRun.Execute(Plans.For(method, optionsJson, _base, _tasks), torch.CPU, output, p => phases.Add(p.Phase));

        string[] learned = method is "adamerging" or "adarank"
            ? ["coefficients.csv", "coefficients.json", "lambda.png", "objective.png", .. method == "adarank" ? ["ranks.png"] : Array.Empty<string>()] : [];
        string[] expected = ["README.md", "accuracy.png", .. learned, "config.json", "model.safetensors", "report.json"];
        Assert.Equal(expected.Order(StringComparer.Ordinal), Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), report.Files.Order(StringComparer.Ordinal));
        Assert.Equal(2, report.Accuracy.Count);
        Assert.All(report.Accuracy, a => Assert.InRange(a.Merged!.Value, 0, 1));
        Assert.NotNull(report.Average);
        Assert.Contains(MergePhase.Write, phases);
        Assert.Contains(MergePhase.Evaluate, phases);
        if (method == "adamerging")
        {
            Assert.Equal(3, report.ObjectivePerStep.Count);
            Assert.Equal(optionsJson.Contains("block", StringComparison.Ordinal) ? ["embeddings", "block 0", "block 1", "head"] : ["all"], report.Coefficients!.Select(c => c.Layer));
        }
        var saved = JsonSerializer.Deserialize<MergeReport>(File.ReadAllText(Path.Combine(output, "report.json")), JsonSerializerOptions.Web)!;
        Assert.Equal(report.Accuracy, saved.Accuracy);
    }

    public static TheoryData<MergePhase> EveryPhase => new(Enum.GetValues<MergePhase>());

    [Theory]
    [MemberData(nameof(EveryPhase))]
    public void Cancelled_in_any_phase_the_merge_stops_in_that_phase_and_leaves_no_file(MergePhase phase)
    {
        var plan = Plans.For("adamerging", """{"granularity": "task", "steps": 50, "batchSize": 4}""", _base, _tasks);
        var output = Dir.File("cancelled-" + phase);
        using var cancel = new CancellationTokenSource();
        var phases = new List<MergePhase>();
        void Progress(MergeProgress p)
        {
            phases.Add(p.Phase);
            if (p.Phase == phase) cancel.Cancel();
        }
        Assert.ThrowsAny<OperationCanceledException>(() => MergeRun.Execute(plan, torch.CPU, output, Progress, ct: cancel.Token));
        Assert.Equal(phase, phases[^1]);                       // no later phase began
        int steps = phase switch { MergePhase.Load or MergePhase.Merge => 0, MergePhase.Optimise => 1, _ => 50 };   // cancelled at step 1 stops at step 1
        Assert.Equal(steps, phases.Count(p => p == MergePhase.Optimise));
        Assert.Empty(Directory.Exists(output) ? Directory.GetFiles(output, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public void An_open_clip_base_merges_in_its_own_layout_scores_as_the_same_weights_and_comes_out_in_Hugging_Face_layout()
    {
        // The same fine-tuned weights, written in open_clip names (q, k, v fused; projection transposed).
        var openClipTasks = _tasks.Select((t, k) =>
        {
            using var hf = AdaMerging.Domain.Tensors.SafetensorsFile.Open(t.CheckpointFiles["model.safetensors"]);
            var path = Dir.File($"oc{k}.safetensors");
            TestCheckpoints.Save(path, ClipFixtures.OpenClip(hf.Tensors.ToDictionary(x => x.Name, x => hf.Read(x.Name)), ClipTiny.Config));
            return t with { CheckpointFiles = new Dictionary<string, string> { ["open_clip.safetensors"] = path, ["config.json"] = ClipTiny.File("config.json") } };
        }).ToList();
        using (var hfBase = ClipTiny.OpenHuggingFace())
            TestCheckpoints.Save(Dir.File("oc-base.safetensors"), ClipFixtures.OpenClip(
                hfBase.Weights.Tensors.ToDictionary(x => x.Name, x => hfBase.Weights.Read(x.Name)), ClipTiny.Config));
        var openClipBase = new Dictionary<string, string> { ["open_clip.safetensors"] = Dir.File("oc-base.safetensors"), ["config.json"] = ClipTiny.File("config.json") };
        const string options = """{"lambda": 0.4}""";

        var viaOpenClip = MergeRun.Execute(Plans.For("task_arithmetic", options, openClipBase, openClipTasks), torch.CPU, Dir.File("oc-out"));
        var viaHf = MergeRun.Execute(Plans.For("task_arithmetic", options, _base, _tasks), torch.CPU, Dir.File("hf-out"));

        Assert.Equal(viaHf.Accuracy, viaOpenClip.Accuracy);
        using var written = AdaMerging.Domain.Tensors.SafetensorsFile.Open(Path.Combine(Dir.File("oc-out"), "model.safetensors"));
        Assert.Null(written.Find("visual.transformer.resblocks.0.attn.in_proj_weight"));
        using var hfWritten = AdaMerging.Domain.Tensors.SafetensorsFile.Open(Path.Combine(Dir.File("hf-out"), "model.safetensors"));
        Assert.Equal(4.6f, written.Read("logit_scale").item<float>()); // CLIP's scalar is carried under its Hugging Face name
        foreach (var t in written.Tensors.Where(t => t.Name != "logit_scale"))
            Assert.True(written.Read(t.Name).allclose(hfWritten.Read(t.Name), rtol: 1e-6, atol: 1e-6), $"{t.Name} differs between the two layouts' merges");
    }

    [Fact]
    public void The_individual_column_is_each_fine_tuned_model_on_its_own_task_and_the_base_column_is_the_base()
    {
        MergeReport Run(string optionsJson, IReadOnlyList<PlannedTask> tasks) =>
            MergeRun.Execute(Plans.For("task_arithmetic", optionsJson, _base, tasks), torch.CPU, Dir.File("run-" + Guid.NewGuid().ToString("N")[..8]));
        var report = Run("""{"lambda": 0.3}""", _tasks);
        // Task arithmetic at 0.3 is what the method itself did here, so the two columns agree exactly.
        Assert.All(report.Accuracy, a => Assert.Equal(a.TaskArithmetic, a.Merged));

        // θ0 + 1 · τk alone is the fine-tuned model k: its accuracy on task k is that task's individual column.
        var alone = Enumerable.Range(0, _tasks.Count).Select(k => Run("""{"lambda": 1.0}""", [_tasks[k]]).Accuracy[0].Merged!.Value).ToList();
        Assert.Equal(alone, report.Accuracy.Select(a => a.Individual!.Value));
        // λ = 0 leaves θ0: its accuracies are the base column.
        Assert.Equal(Run("""{"lambda": 0.0}""", _tasks).Accuracy.Select(a => a.Merged), report.Accuracy.Select(a => a.Base));
        Assert.Equal(alone.Average(), report.Average!.Individual!.Value, 12);
    }

    [Fact]
    public void The_report_records_every_input_s_sha256_the_device_threads_and_versions()
    {
        var report = MergeRun.Execute(Plans.For("task_arithmetic", "{}", _base, _tasks), torch.CPU, Dir.File("record"));
        var run = report.Run!;
        var expected = _base.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => ("base", f.Key, Sha256(f.Value)))
            .Concat(_tasks.SelectMany(t => new[]
            {
                ($"task '{t.Name}'", "model.safetensors", Sha256(t.CheckpointFiles["model.safetensors"])),
                ($"task '{t.Name}' head", "head.safetensors", Sha256(t.HeadPath!)),
                ($"task '{t.Name}' adaptation data", Path.GetFileName(t.AdaptationPath!), Sha256(t.AdaptationPath!)),
                ($"task '{t.Name}' evaluation data", Path.GetFileName(t.EvaluationPath!), Sha256(t.EvaluationPath!)),
            }));
        Assert.Equal(expected, run.Inputs.Select(i => (i.Role, i.File, i.Sha256)));
        Assert.Equal("cpu", run.Device, ignoreCase: true);
        Assert.Equal(torch.get_num_threads(), run.Threads);
        Assert.False(string.IsNullOrWhiteSpace(run.Version));
        Assert.StartsWith("2.", run.Torch, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tsv")]
    [InlineData("iso_cts")]
    public void A_spectral_merge_cancelled_once_merging_began_stops_inside_the_merge_and_leaves_no_file(string method)
    {
        var output = Dir.File("cancelled-" + method);
        using var cancel = new CancellationTokenSource();
        var phases = new List<MergePhase>();
        void Progress(MergeProgress p)
        {
            phases.Add(p.Phase);
            if (p.Phase == MergePhase.Merge) cancel.Cancel();   // the phase has begun: the merge's own check between tensors stops it
        }
        Assert.ThrowsAny<OperationCanceledException>(() => MergeRun.Execute(Plans.For(method, "{}", _base, _tasks), torch.CPU, output, Progress, ct: cancel.Token));
        Assert.Equal(MergePhase.Merge, phases[^1]);
        Assert.Empty(Directory.Exists(output) ? Directory.GetFiles(output, "*", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public void AdaMerging_over_TSV_parts_with_every_lambda_1_and_no_learning_is_TSV_M()
    {
        // Each task's TSV-M part, every coefficient 1 and a learning rate of 0: the parts add up to TSV-M's update.
        MergeRun.Execute(Plans.For("adamerging", """{"vectors": "tsv", "initialLambda": 1, "learningRate": 0, "steps": 1, "batchSize": 4}""", _base, _tasks),
            torch.CPU, Dir.File("ada-tsv"));
        MergeRun.Execute(Plans.For("tsv", """{"alpha": 1}""", _base, _tasks), torch.CPU, Dir.File("tsv"));
        using var learned = AdaMerging.Domain.Tensors.SafetensorsFile.Open(Path.Combine(Dir.File("ada-tsv"), "model.safetensors"));
        using var tsv = AdaMerging.Domain.Tensors.SafetensorsFile.Open(Path.Combine(Dir.File("tsv"), "model.safetensors"));
        using var theta0 = AdaMerging.Domain.Tensors.SafetensorsFile.Open(_base["model.safetensors"]);
        int moved = 0;
        foreach (var t in tsv.Tensors.Where(t => t.DType.IsFloatingPoint))
        {
            using var a = learned.Read(t.Name);
            using var b = tsv.Read(t.Name);
            Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-6), $"{t.Name}: AdaMerging over TSV parts differs from TSV-M");
            using var original = theta0.Read(t.Name);
            if (b.ne(original).any().item<bool>()) moved++;
        }
        Assert.True(moved > 10, "TSV-M moved the weights");
    }

    [Fact]
    public void The_same_request_on_the_same_device_and_threads_gives_a_bit_identical_model()
    {
        string Model(string name)
        {
            var output = Dir.File(name);
            MergeRun.Execute(Plans.For("adamerging", """{"steps": 4, "batchSize": 4, "plus": true, "seed": 9}""", _base, _tasks), torch.CPU, output);
            return Sha256(Path.Combine(output, "model.safetensors"));
        }
        Assert.Equal(Model("first"), Model("second"));
    }

    [Fact]
    public void The_model_card_has_front_matter_options_inputs_accuracies_coefficients_and_how_to_load()
    {
        var output = Dir.File("card");
        var report = MergeRun.Execute(Plans.For("adamerging", """{"granularity": "task", "steps": 2, "batchSize": 4}""", _base, _tasks) with { BaseName = "tiny-clip" },
            torch.CPU, output);
        var card = File.ReadAllText(Path.Combine(output, "README.md"));
        Assert.StartsWith("---\nbase_model:\n- \"tiny-clip\"\n- \"task0\"\n- \"task1\"\nbase_model_relation: merge\nmerge_method: adamerging\nmerge_options: {", card, StringComparison.Ordinal);
        var sha = report.Run!.Inputs.First(i => i.Role == "task 'task0'").Sha256;
        Assert.Contains($"- {{\"role\":\"task 'task0'\",\"file\":\"model.safetensors\",\"sha256\":\"{sha}\"}}\n", card, StringComparison.Ordinal);
        Assert.Contains("library_name: transformers\ntags:\n- merge\n- adamerging\n- adamerging\n---\n", card, StringComparison.Ordinal);
        Assert.Contains("| `granularity` | `\"task\"` |", card, StringComparison.Ordinal);
        Assert.Contains($"| task 'task0' | `model.safetensors` | `{report.Run!.Inputs.First(i => i.Role == "task 'task0'").Sha256}` |", card, StringComparison.Ordinal);
        foreach (var row in report.Accuracy)
            Assert.Contains($"| {row.Task} | {100 * row.Merged!.Value:F1} | {100 * row.Base!.Value:F1} |", card, StringComparison.Ordinal);
        Assert.Contains("| task0 | ", card, StringComparison.Ordinal);
        Assert.Contains("![learned λ, layers × tasks](lambda.png)", card, StringComparison.Ordinal);
        Assert.Contains("CLIPVisionModel.from_pretrained(", card, StringComparison.Ordinal);
    }

    private static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }
}
