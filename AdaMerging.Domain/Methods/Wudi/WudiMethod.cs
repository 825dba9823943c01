using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods.Options;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// WUDI merging (Cheng et al., ICML 2025; FusionBench's <c>wudi</c>): per matrix, the update whose interference
/// with each task's own update, Σk ‖(τ − τk) τkᵀ‖² / ‖τk‖², is least, found by the authors' Adam; data-free
/// (docs/algorithm.md, "WUDI").
/// </summary>
public sealed class WudiMethod : DataFreeMethod
{
    public static readonly IntegerOption Iterations = new("iterations", "Adam iterations per matrix (the authors' 300).", Wudi.DefaultIterations, 0, 100_000);

    public static readonly NumberOption LearningRate = new("learningRate", "Adam's learning rate for each matrix's update (the authors' 1e-5).", Wudi.DefaultLearningRate, 0, 1);

    public static readonly PatternListOption ExcludeMatrices = new("excludeMatrices",
        "Matrices (regular expressions over tensor names) averaged instead of optimised, as the authors' LLM code does for lm_head; none by default (FusionBench's).");

    public override string Name => "wudi";

    public override string Summary => "θ = θ0 + α · τ, τ per matrix minimising Σk ‖(τ − τk) τkᵀ‖² / ‖τk‖² by Adam from Σk τk; other tensors averaged.";

    protected override bool NeedsWholeTensors => true;

    public override IReadOnlyList<OptionSpec> Options { get; } = [TsvMethod.Alpha, Iterations, LearningRate, ExcludeMatrices];

    protected override Dictionary<string, Tensor> Combine(MergeContext context, TaskVectors vectors, CancellationToken ct)
    {
        var o = context.Options;
        int iterations = (int)Iterations.In(o);
        double rate = LearningRate.In(o);
        var excluded = ExcludeMatrices.In(o).Select(p => new Regex(p, RegexOptions.None, TimeSpan.FromSeconds(1))).ToList();
        // Every 2-D tensor in its own shape, as the authors' code: a convolution is not a matrix to them.
        return SpectralMerge.Apply(vectors, (name, taus) => Wudi.Update(taus, iterations, rate, optimise: !excluded.Any(r => r.IsMatch(name))),
            TsvMethod.Alpha.In(o), ct);
    }
}
