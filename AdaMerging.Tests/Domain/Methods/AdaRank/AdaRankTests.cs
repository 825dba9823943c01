using AdaMerging.Domain.Methods;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>
/// AdaRank against the project's PyTorch reference written from the authors' code (tools/make_adarank_fixture.py:
/// autograd through the masked SVD merge of a tiny open_clip ViT, torch.optim.Adam over λ and the mask logits), in
/// float64 to 1e-7 of the largest value: the gradient at the start, and λ, every mask logit and the objective after six steps, for task arithmetic,
/// CART and Iso-CTS's components with the straight-through mask and for the sigmoid mask (docs/algorithm.md, "AdaRank").
/// </summary>
public sealed class AdaRankTests
{
    public static TheoryData<string, AdaRankBase, double, double, MaskEstimator> Variants => new()
    {
        { "ta_st", AdaRankBase.TaskArithmetic, 0.3, 1.0, MaskEstimator.StraightThrough },
        { "cart_st", AdaRankBase.Cart, 2.3, 0.5, MaskEstimator.StraightThrough },
        { "ta_sigmoid", AdaRankBase.TaskArithmetic, 0.3, 0.5, MaskEstimator.Sigmoid },
        { "iso_st", AdaRankBase.IsoCts, 1.0, 0.5, MaskEstimator.StraightThrough },
    };

    private static AdaRankSettings Settings(AdaRankBase kind, double prior, double ratio, MaskEstimator estimator) => new()
    {
        Base = kind, InitialLambda = prior, InitialRankRatio = ratio, Estimator = estimator, MaskTemperature = 10,
        Optimiser = new AdaMergingSettings { Steps = 6, BatchSize = 12, LearningRate = 0.03 },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void The_gradient_and_lambda_and_mask_logits_after_six_steps_match_pytorch(string variant, AdaRankBase kind, double prior, double ratio, MaskEstimator estimator)
    {
        using var f = new AdaRankFixture();
        using var components = f.Components(kind);
        var settings = Settings(kind, prior, ratio, estimator);
        using (var run = f.Run(components, settings))
        {
            var (_, gradient) = run.ObjectiveAndGradient([[.. Enumerable.Range(0, 12).Select(i => (long)i)], [.. Enumerable.Range(0, 12).Select(i => (long)i)]]);
            AssertParameters(f, components, gradient.data<double>().ToArray(), variant, "gradient_lambda", "gradient_logits", 1e-7);
        }
        using (var run = f.Run(components, settings))
        {
            run.Run();
            AssertParameters(f, components, run.Snapshot().Lambda, variant, "lambda", "logits", 1e-7);
            var expected = f.Reference.Read($"objective.{variant}").data<double>().ToArray();
            Assert.All(expected.Zip(run.ObjectivePerStep), p => Assert.True(Math.Abs(p.First - p.Second) <= 1e-9 * p.First, $"objective {p.Second}, PyTorch {p.First}"));
            // Six steps of 0.03 from the logits' 0.1 cross 0: task arithmetic's masks, all kept at the start, drop components.
            if (variant == "ta_st") Assert.Contains(run.KeptRanks(), r => r.Kept.Any(kept => kept < r.Rank));
        }
    }

    [Theory]
    [InlineData(AdaRankBase.TaskArithmetic, 0.3)]
    [InlineData(AdaRankBase.Tsv, 1.0)]
    [InlineData(AdaRankBase.IsoCts, 1.0)]
    public void With_every_component_kept_and_no_step_the_merge_is_its_base_merge(AdaRankBase kind, double prior)
    {
        using var f = new AdaRankFixture();
        using var components = f.Components(kind);
        using var run = f.Run(components, Settings(kind, prior, 1.0, MaskEstimator.StraightThrough) with { Optimiser = new AdaMergingSettings { Steps = 0 } });
        var merged = run.Merged();
        var expected = kind switch
        {
            AdaRankBase.Tsv => SpectralMerge.Apply(f.Vectors, (name, taus) => SpectralMerge.Tsv(name, taus), 1.0, CancellationToken.None),
            AdaRankBase.IsoCts => SpectralMerge.Apply(f.Vectors, (name, taus) => SpectralMerge.IsoCts(name, taus), 1.0, CancellationToken.None),
            _ => f.Vectors.Combine((_, _) => tensor(prior, ScalarType.Float64)),
        };
        double tolerance = kind == AdaRankBase.TaskArithmetic ? 1e-12 : 1e-5;   // the spectral merges decompose in float32; AdaRank's components here are float64
        Assert.All(components.Names, name => Assert.True((merged[name] - expected[name]).abs().max().item<double>() <= tolerance,
            $"{name}: {(merged[name] - expected[name]).abs().max().item<double>():E2} from the base merge"));
        Assert.All(run.KeptRanks(), r => Assert.All(r.Kept, kept => Assert.Equal(r.Rank, kept)));
    }

    [Fact]
    public void With_no_matrix_to_mask_it_learns_lambda_alone_and_reports_no_kept_components()
    {
        using var f = new AdaRankFixture();
        using var components = RankComponents.Decompose(f.Vectors, new AdaRankSettings(), (_, _) => false, CancellationToken.None);
        using var run = f.Run(components, Settings(AdaRankBase.TaskArithmetic, 0.3, 1.0, MaskEstimator.StraightThrough) with
        {
            Optimiser = new AdaMergingSettings { Steps = 2, BatchSize = 12, LearningRate = 0.03 },
        });
        run.Run();
        Assert.Equal(0, components.MaskLength);
        Assert.Empty(run.KeptRanks());
        Assert.Equal(2, run.ObjectivePerStep.Count);
        Assert.Contains(run.Coefficients(), layer => layer.Lambda.Any(l => Math.Abs(l - 0.3) > 1e-3));   // two Adam steps of 0.03 move λ
        Assert.Equal(components.Names.Count * components.TaskCount, run.Snapshot().Lambda.Length);
    }

    /// <summary>λ [K, tensors] then each matrix's logits, from the run's flat parameters, against the reference's, to <paramref name="tolerance"/> relative to the largest.</summary>
    private static void AssertParameters(AdaRankFixture f, RankComponents c, double[] flat, string variant, string lambdaName, string logitsName, double tolerance)
    {
        int k = c.TaskCount, t = c.Names.Count;
        using var lambda = tensor(flat.Take(k * t).ToArray(), [k, t]);
        var names = System.Text.Json.JsonSerializer.Deserialize<List<string>>(File.ReadAllText(AdaRankFixture.File("names.json")))!;
        using var expectedLambda = f.Reference.Read($"{lambdaName}.{variant}").to_type(ScalarType.Float64);
        using var order = tensor(c.Names.Select(n => (long)names.IndexOf(n)).ToArray());
        using var reordered = expectedLambda.index_select(1, order);
        AssertClose(reordered, lambda, tolerance, $"{variant} {lambdaName}");
        for (int i = 0; i < t; i++)
        {
            if (!c.IsMasked(i)) continue;
            using var expected = f.Reference.Read($"{logitsName}.{variant}.{c.Names[i]}").to_type(ScalarType.Float64);
            using var actual = stack(Enumerable.Range(0, k).Select(task => tensor(flat.Skip(k * t + task * c.MaskLength + c.MaskOffset[i]).Take(c.Ranks[i]).ToArray())).ToArray());
            AssertClose(expected, actual, tolerance, $"{variant} {logitsName} {c.Names[i]}");
        }
    }

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double scale = Math.Max(expected.abs().max().item<double>(), 1e-12);
        double difference = (expected - actual).abs().max().item<double>();
        Assert.True(difference <= tolerance * scale, $"{what}: largest difference {difference:E2} against a largest value {scale:E2}");
    }
}
