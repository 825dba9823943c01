using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using TorchSharp;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

public class AdaMergingTests
{
    private static AdaMergingSettings Options(Granularity granularity = Granularity.Layer, int steps = 3, double lr = 1e-3, long seed = 1, int batch = 4) =>
        new() { Granularity = granularity, Steps = steps, LearningRate = lr, Seed = seed, BatchSize = batch };

    private static bool Same(Dictionary<string, Tensor> a, Dictionary<string, Tensor> b) =>
        a.Count == b.Count && a.All(kv => kv.Value.equal(b[kv.Key]).all().item<bool>());

    [Fact]
    public void Layer_wise_with_every_lambda_c_equals_task_arithmetic_at_c()
    {
        using var f = new EngineFixture(3, ScalarType.Float32);
        using var run = f.Run(Options() with { InitialLambda = 0.45 });
        Assert.True(Same(run.MergedParameters(), f.Vectors.Combine((_, _) => tensor(0.45f))));
    }

    [Fact]
    public void Task_wise_with_learning_rate_0_equals_task_arithmetic_at_0_3()
    {
        using var f = new EngineFixture(2, ScalarType.Float32);
        using var run = f.Run(Options(Granularity.Task, steps: 4, lr: 0));
        run.Run();
        Assert.Equal(4, run.Step);
        Assert.True(Same(run.MergedParameters(), f.Vectors.Combine((_, _) => tensor(0.3f))));
    }

    [Fact]
    public void The_lambda_gradient_matches_central_finite_differences_in_float64()
    {
        using var f = new EngineFixture(2, ScalarType.Float64);
        using var run = f.Run(Options());
        var rows = run.Layers.Rows;
        var g = new Generator(9);
        var lambda = rand([rows, 2], generator: g, dtype: ScalarType.Float64).Times(0.6).Plus(0.2);  // away from the clamp's edges
        List<long[]> batches = [[0, 3, 5, 7], [1, 2, 4, 11]];
        var (_, gradient) = run.ObjectiveAndGradient(lambda, batches);
        const double h = 1e-6;
        foreach (var (row, k) in new[] { (0, 0), (1, 1), (rows / 2, 0), (rows - 1, 1), (rows - 2, 0) })
        {
            var plus = lambda.clone();
            plus[row, k] += h;
            var minus = lambda.clone();
            minus[row, k] -= h;
            var numeric = (run.ObjectiveAndGradient(plus, batches).Objective - run.ObjectiveAndGradient(minus, batches).Objective) / (2 * h);
            var analytic = gradient[row, k].item<double>();
            Assert.True(Math.Abs(analytic - numeric) <= 1e-6 * Math.Max(1e-3, Math.Abs(numeric)),
                $"λ[{row},{k}]: chain rule {analytic:E6}, finite difference {numeric:E6}");
        }
    }

    [Fact]
    public void The_run_s_lambda_gradient_equals_autograd_through_ordinary_leaf_weights_contracted_with_each_tau()
    {
        using var f = new EngineFixture(2, ScalarType.Float64);
        using var run = f.Run(Options());
        List<long[]> batches = [[0, 1, 2, 3], [4, 5, 6, 7]];
        var lambda = ScalarMath.Filled([run.Layers.Rows, 2], 0.3, ScalarType.Float64, CPU);
        var (_, fromRun) = run.ObjectiveAndGradient(lambda, batches);

        // Independently: autograd's ∂L/∂θ on ordinary leaf parameters, then ⟨∂L/∂θp, τk,p⟩ for each tensor.
        var theta = f.Vectors.Combine((_, _) => tensor(0.3, dtype: ScalarType.Float64)).ToDictionary(kv => kv.Key, kv => kv.Value.detach().requires_grad_(true));
        Tensor loss = zeros(1, dtype: ScalarType.Float64);
        for (int k = 0; k < 2; k++)
            loss = loss.Plus(AdaMergingRun.Entropy(((AdaMerging.Domain.Models.ClassificationHead)f.Tasks[k].Head).Logits(f.Encoder.Forward(theta, f.Tasks[k].Adaptation.Read(batches[k], CPU)))));
        loss.backward();
        var tau = Enumerable.Range(0, 2).Select(k => f.Vectors.Views(f.Vectors.TaskRow(k))).ToList();
        foreach (var (p, i) in f.Vectors.Names.Select((p, i) => (p, i)).Where((_, i) => i % 7 == 0))
            for (int k = 0; k < 2; k++)
            {
                var autograd = (theta[p].grad! * tau[k][p]).sum().item<double>();
                var chain = fromRun[run.Layers.RowOf(p), k].item<double>();
                Assert.True(Math.Abs(chain - autograd) <= 1e-10 * Math.Max(1, Math.Abs(autograd)), $"{p}, task {k}: the run's chain rule {chain}, autograd {autograd}");
            }
    }

    [Fact]
    public void The_same_seed_gives_the_same_lambda_bit_for_bit_and_another_seed_does_not()
    {
        using var f = new EngineFixture(2, ScalarType.Float32);
        double[] RunWith(long seed)
        {
            using var run = f.Run(Options(steps: 4, lr: 1e-2, seed: seed));
            run.Run();
            return run.RawLambda();
        }
        Assert.Equal(RunWith(7), RunWith(7));
        Assert.NotEqual(RunWith(7), RunWith(8));
    }

    [Fact]
    public void A_run_saved_and_resumed_ends_bit_identical_to_an_uninterrupted_one()
    {
        using var f = new EngineFixture(2, ScalarType.Float32);
        using var whole = f.Run(Options(steps: 6, lr: 1e-2));
        whole.Run();

        AdaMergingState saved;
        using (var first = f.Run(Options(steps: 6, lr: 1e-2)))
        {
            first.TakeStep();
            first.TakeStep();
            first.TakeStep();
            saved = JsonSerializer.Deserialize<AdaMergingState>(JsonSerializer.Serialize(first.Snapshot()))!;
        }
        using var resumed = f.Run(Options(steps: 6, lr: 1e-2), saved);
        resumed.Run();
        Assert.Equal(whole.RawLambda(), resumed.RawLambda());
        Assert.Equal(whole.ObjectivePerStep, resumed.ObjectivePerStep);
    }

    [Fact]
    public void Layer_wise_AdaMerging_lowers_the_entropy_below_task_arithmetic_and_moves_lambda()
    {
        using var f = new EngineFixture(2, ScalarType.Float32, images: 16);
        using var run = f.Run(Options(steps: 40, lr: 2e-2, batch: 8));
        var all = f.Tasks.Select(t => Enumerable.Range(0, 16).Select(i => (long)i).ToArray()).ToList();
        var before = run.ObjectiveAndGradient(ScalarMath.Filled([run.Layers.Rows, 2], 0.3f, ScalarType.Float32, CPU), all).Objective;
        run.Run();
        var after = run.ObjectiveAndGradient(tensor(run.RawLambda().Select(v => (float)v).ToArray(), [run.Layers.Rows, 2]), all).Objective;
        Assert.True(after < before, $"entropy {after} is not below task arithmetic's {before}");
        Assert.Contains(run.RawLambda(), v => Math.Abs(v - 0.3) > 0.05);
    }

    [Fact]
    public void A_full_run_leaves_the_live_tensor_count_where_it_started()
    {
        using var f = new EngineFixture(2, ScalarType.Float32);
        var start = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var run = f.Run(Options(steps: 5)))
            run.Run();
        Assert.Equal(start, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Two_batches_per_step_add_the_objectives_and_gradients_of_the_sampler_s_next_two_batches()
    {
        using var f = new EngineFixture(2, ScalarType.Float64);
        using var two = f.Run(Options(steps: 1) with { BatchesPerStep = 2 });
        using var one = f.Run(Options(steps: 1));
        // The sampler's first two draws per task, as the run itself makes them (docs/algorithm.md, "AdaMerging").
        var samplers = f.Tasks.Select((t, k) => new BatchSampler(checked((int)t.Adaptation.Count), 1ul * 1000003ul + (ulong)k)).ToList();
        var first = samplers.Select(s => s.Next(4)).ToList();
        var second = samplers.Select(s => s.Next(4)).ToList();
        using var lambda = ScalarMath.Filled([two.Layers.Rows, 2], 0.3, ScalarType.Float64, CPU);
        var (o1, g1) = one.ObjectiveAndGradient(lambda, first);
        var (o2, g2) = one.ObjectiveAndGradient(lambda, second);
        var (both, gBoth) = two.ObjectiveAndGradient(lambda, first.Zip(second, (a, b) => a.Concat(b).ToArray()).ToList());
        Assert.Equal(o1 + o2, both, 1e-12);
        Assert.True((gBoth - g1.Plus(g2)).abs().max().item<double>() <= 1e-12 * g1.Plus(g2).abs().max().item<double>());
        // And a step draws exactly those: its objective is theirs.
        Assert.Equal(o1 + o2, two.TakeStep(), 1e-12);
        Assert.NotEqual(o1, o2);   // two different batches, not one counted twice
    }

    [Fact]
    public void Entropy_stays_finite_for_extreme_logits()
    {
        var entropy = AdaMergingRun.Entropy(tensor(new float[] { 1e30f, -1e30f, 0, 3e38f }, [1, 4]));
        Assert.True(float.IsFinite(entropy.item<float>()));
        Assert.Equal(Math.Log(4), AdaMergingRun.Entropy(zeros(2, 4)).item<float>(), 5);
    }
}
