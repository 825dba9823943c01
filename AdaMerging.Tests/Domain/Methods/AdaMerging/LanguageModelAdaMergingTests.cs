using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// AdaMerging of causal language models against the PyTorch reference (tools/make_llama_lm_fixture.py): the λ gradient
/// and λ after four Adam steps for both objectives (entropy, expert_kl) in float64, untied (lm_head) and tied (the
/// embeddings score the vocabulary), with and without checkpointing; and the completion scores of the evaluation.
/// The tolerance is 1e-6 relative, not float64's: both sides make the rotary tables in float32, as Hugging Face does,
/// from inverse frequencies PyTorch computes in float32 arithmetic and this service in float64 rounded once, so a
/// frequency can differ in its last bit (docs/algorithm.md, "Decoder language models").
/// </summary>
public sealed class LanguageModelAdaMergingTests
{
    public static TheoryData<string, AdaMergingObjective, bool> Cases => new()
    {
        { "llama3_causal_lm", AdaMergingObjective.Entropy, false },
        { "llama3_causal_lm", AdaMergingObjective.ExpertKl, false },
        { "llama3_causal_lm", AdaMergingObjective.ExpertKl, true },
        { "qwen2_tied", AdaMergingObjective.Entropy, true },
        { "qwen2_tied", AdaMergingObjective.ExpertKl, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_lambda_gradient_and_lambda_after_four_adam_steps_match_pytorch_in_float64(string variant, AdaMergingObjective objective, bool checkpointing)
    {
        using var lm = LanguageModelFixture.Open(variant);
        string kind = objective == AdaMergingObjective.Entropy ? "entropy" : "expert_kl";
        var settings = new AdaMergingSettings { Objective = objective, Checkpointing = checkpointing, Steps = 4, BatchSize = 6, LearningRate = 0.05 };

        using (var run = lm.Run(settings))
        {
            var lambda = ScalarMath.Filled([run.Layers.Rows, 2], 0.3, ScalarType.Float64, CPU);
            var (_, gradient) = run.ObjectiveAndGradient(lambda, [[0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5]]);
            lm.AssertRowsMatch(run.Layers, gradient, lm.Reference[$"gradient.{kind}"], 1e-6, "gradient");
        }
        using (var run = lm.Run(settings))
        {
            run.Run();
            using var raw = tensor(run.RawLambda(), [run.Layers.Rows, 2]);
            lm.AssertRowsMatch(run.Layers, raw, lm.Reference[$"lambda.{kind}"], 1e-6, "λ after 4 steps");
            var expected = lm.Reference[$"objective.{kind}"].data<double>().ToArray();
            Assert.All(expected.Zip(run.ObjectivePerStep), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-6 * p.First, $"objective {p.Second}, PyTorch {p.First}"));
        }
    }

    [Theory]
    [InlineData(LambdaBound.Clamp)]
    [InlineData(LambdaBound.Project)]
    public void Lambda_in_a_narrow_range_clamped_or_projected_matches_pytorch_after_four_steps(LambdaBound bound)
    {
        using var lm = LanguageModelFixture.Open("llama3_causal_lm");
        string name = bound == LambdaBound.Clamp ? "clamp" : "project";
        var settings = new AdaMergingSettings { Steps = 4, BatchSize = 6, LearningRate = 0.05, LambdaRange = (0.25, 0.4), LambdaBound = bound };
        using var run = lm.Run(settings);
        run.Run();
        using var raw = tensor(run.RawLambda(), [run.Layers.Rows, 2]);
        lm.AssertRowsMatch(run.Layers, raw, lm.Reference[$"lambda.range.{name}"], 1e-6, $"λ after 4 steps ({name})");
        var expected = lm.Reference[$"objective.range.{name}"].data<double>().ToArray();
        Assert.All(expected.Zip(run.ObjectivePerStep), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-6 * p.First, $"objective {p.Second}, PyTorch {p.First}"));
        // Four steps of 0.05 from 0.3 reach the bounds: clamped, some λ end outside the range; projected, none do and some sit on a bound.
        var values = run.RawLambda();
        if (bound == LambdaBound.Clamp) Assert.Contains(values, v => v < 0.25 - 1e-9 || v > 0.4 + 1e-9);
        else
        {
            Assert.All(values, v => Assert.InRange(v, 0.25, 0.4));
            Assert.Contains(values, v => v == 0.25 || v == 0.4);
        }
    }

    [Fact]
    public void Expert_kl_is_zero_with_a_zero_gradient_where_the_merge_is_the_expert()
    {
        using var lm = LanguageModelFixture.Open("llama3_causal_lm");
        using var run = lm.Run(new AdaMergingSettings { Objective = AdaMergingObjective.ExpertKl, Granularity = Granularity.Task });
        // One task's coefficient 1, the other's 0: task a's merged model is its expert, task b's is not.
        using var lambda = tensor(new double[] { 1, 0 }, [1, 2], dtype: ScalarType.Float64);
        var (objective, _) = run.ObjectiveAndGradient(lambda, [[0, 1, 2], [3, 4, 5]]);
        Assert.True(objective > 1e-3, $"task b's merged model is not its expert: KL {objective}");
        using (var onlyA = lm.Run(new AdaMergingSettings { Objective = AdaMergingObjective.ExpertKl, Granularity = Granularity.Task }, tasks: 1))
        {
            using var one = tensor(new double[] { 1 }, [1, 1], dtype: ScalarType.Float64);
            var (kl, gradient) = onlyA.ObjectiveAndGradient(one, [[0, 1, 2, 3, 4, 5]]);
            Assert.True(Math.Abs(kl) < 1e-12, $"the expert against itself: KL {kl}");
            Assert.True(gradient.abs().max().item<double>() < 1e-10, "the KL is at its minimum: no gradient");
        }
    }

    [Fact]
    public void Completion_nll_token_count_and_exact_matches_of_the_base_match_pytorch()
    {
        using var lm = LanguageModelFixture.Open("llama3_causal_lm");
        using var model = lm.Base.Spec!.CreateLanguageModel(lm.Base.Weights);
        using var head = new LanguageModelHead(lm.Base.Spec.TokenScores(lm.Base.Weights)!);
        var parameters = ModelParameters.Load(lm.Base.Weights, ScalarType.Float32, CPU, lm.Base.Spec.ReadsTensor);
        using var prompts = new TensorImageRows(lm.Reference["eval_tokens"].clone());
        var scores = Evaluation.Completions(model, parameters, head, prompts, batchSize: 4);
        double expected = lm.Reference["eval_nll"].item<double>();
        Assert.True(Math.Abs(scores.NegativeLogLikelihood - expected) <= 1e-5 * expected, $"NLL {scores.NegativeLogLikelihood}, PyTorch {expected}");
        Assert.Equal((lm.Reference["eval_tokens_scored"].item<long>(), lm.Reference["eval_exact"].item<long>(), 6L),
            (scores.Tokens, scores.ExactMatches, scores.Examples));
        Assert.InRange(scores.ExactMatches, 1, 5);   // half the completions are the base's greedy ones: neither none nor all
        var quality = CompletionQuality.Of(scores);
        Assert.Equal(Math.Exp(scores.NegativeLogLikelihood / scores.Tokens), quality.Perplexity, 1e-12);
        ModelParameters.Dispose(parameters);
    }
}

/// <summary>tools/make_llama_lm_fixture.py's base, two tasks and reference, as an AdaMerging run over token batches.</summary>
internal sealed class LanguageModelFixture : IDisposable
{
    private readonly List<ModelFolder> _tasks;
    private readonly List<IDisposable> _owned = [];

    private LanguageModelFixture(string variant)
    {
        Variant = variant;
        Base = LlamaTiny.Open(variant);
        string root = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_lm", variant);
        _tasks = [.. new[] { "task_a", "task_b" }.Select(t => ModelFolder.Open(new Dictionary<string, string>
        {
            ["model.safetensors"] = Path.Combine(root, t, "model.safetensors"),
            ["config.json"] = Path.Combine(root, t, "config.json"),
        }))];
        using var file = SafetensorsFile.Open(Path.Combine(root, "reference.safetensors"));
        Reference = file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name), StringComparer.Ordinal);
        Names = JsonSerializer.Deserialize<List<string>>(File.ReadAllText(Path.Combine(root, "names.json")))!;
    }

    public string Variant { get; }

    public ModelFolder Base { get; }

    public IReadOnlyDictionary<string, Tensor> Reference { get; }

    /// <summary>The reference's rows: tensor names in sorted order.</summary>
    public IReadOnlyList<string> Names { get; }

    public static LanguageModelFixture Open(string variant) => new(variant);

    /// <summary>A float64 run over the first <paramref name="tasks"/> tasks, layer-wise per tensor unless the settings say otherwise.</summary>
    public AdaMergingRun Run(AdaMergingSettings settings, int tasks = 2)
    {
        var spec = Base.Spec!;
        var vectors = TaskVectors.Load(Base.Weights, [.. _tasks.Take(tasks).Select(t => t.Weights)], [], ScalarType.Float64, CPU);
        var model = spec.CreateLanguageModel(Base.Weights);
        var head = new LanguageModelHead(spec.TokenScores(Base.Weights)!);
        var adaptation = new[] { "tokens_a", "tokens_b" }.Take(tasks)
            .Select((t, k) => new AdaMergingTask($"t{k}", head, new TensorImageRows(Reference[t].clone()))).ToList();
        _owned.AddRange([vectors, model, head, .. adaptation.Select(a => a.Adaptation)]);
        var layers = LayerMap.Create(vectors.Names, settings.Granularity, settings.LayerUnit, spec.BlockOf, spec.SharesCoefficientWith);
        return new AdaMergingRun(model, new Dictionary<string, Tensor>(), vectors, layers, adaptation, settings);
    }

    /// <summary>Each row of <paramref name="actual"/> (the run's rows) against the reference's row of the same tensor.</summary>
    public void AssertRowsMatch(LayerMap layers, Tensor actual, Tensor expected, double tolerance, string what)
    {
        Assert.Equal(Names.Count, layers.Rows);
        for (int row = 0; row < layers.Rows; row++)
        {
            int reference = Names.ToList().IndexOf(layers.RowNames[row]);
            Assert.True(reference >= 0, $"{layers.RowNames[row]} is not among the reference's tensors");
            for (int k = 0; k < expected.shape[1]; k++)
            {
                double a = actual[row, k].item<double>(), e = expected[reference, k].item<double>();
                Assert.True(Math.Abs(a - e) <= tolerance * Math.Max(1, Math.Abs(e)), $"{Variant}, {what}, {layers.RowNames[row]}, task {k}: {a}, PyTorch {e}");
            }
        }
    }

    public void Dispose()
    {
        _owned.ForEach(o => o.Dispose());
        _tasks.ForEach(t => t.Dispose());
        Base.Dispose();
        foreach (var t in Reference.Values) t.Dispose();
    }
}
