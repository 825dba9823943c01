using System.Text.Json.Nodes;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Benchmark;

/// <summary>The rows each benchmark's table runs through the service (docs/reproduction.md): a label, a method, its options.</summary>
public static class BenchmarkMethods
{
    /// <summary>Every method of the table; each takes those of the <paramref name="common"/> options it has (steps, seed).</summary>
    public static IReadOnlyList<MethodRun> AllMethods(JsonObject common) =>
    [
        Run("weight averaging", "weight_averaging", common),
        Run("task arithmetic", "task_arithmetic", common),
        Run("TIES-merging", "ties", common),
        Run("DARE (+ task arithmetic)", "dare", common),
        Run("task-wise AdaMerging", "adamerging", common, ("granularity", "task")),
        Run("task-wise AdaMerging++", "adamerging", common, ("granularity", "task"), ("plus", true)),
        Run("layer-wise AdaMerging", "adamerging", common, ("granularity", "layer")),
        Run("layer-wise AdaMerging++", "adamerging", common, ("granularity", "layer"), ("plus", true)),
        Run("TSV-M", "tsv", common),
        Run("Iso-C", "iso_c", common),
        Run("Iso-CTS", "iso_cts", common),
        Run("RegMean", "regmean", common),
        // Over TSV-M's parts the coefficients start at 1, TSV-M's own point (docs/algorithm.md, "AdaMerging over TSV-M's parts").
        Run("task-wise AdaMerging over TSV-M parts", "adamerging", common, ("granularity", "task"), ("vectors", "tsv"), ("initialLambda", 1.0)),
        Run("layer-wise AdaMerging over TSV-M parts", "adamerging", common, ("granularity", "layer"), ("vectors", "tsv"), ("initialLambda", 1.0)),
        // Started inside [0, 1], where a step past the clamp's edge is not yet the end of learning (docs/reproduction.md).
        Run("task-wise AdaMerging over TSV-M parts from λ 0.9", "adamerging", common, ("granularity", "task"), ("vectors", "tsv"), ("initialLambda", 0.9)),
        Run("layer-wise AdaMerging over TSV-M parts from λ 0.9", "adamerging", common, ("granularity", "layer"), ("vectors", "tsv"), ("initialLambda", 0.9)),
        // Issue 32: coefficients allowed past TSV-M's own (docs/algorithm.md, "Coefficients past the clamp").
        Run("task-wise AdaMerging over TSV-M parts up to λ 2 (projected)", "adamerging", common, ("granularity", "task"), ("vectors", "tsv"), ("initialLambda", 1.0),
            ("lambdaRange", new JsonArray(0.0, 2.0)), ("lambdaBound", "project")),
        Run("layer-wise AdaMerging over TSV-M parts up to λ 2 (projected)", "adamerging", common, ("granularity", "layer"), ("vectors", "tsv"), ("initialLambda", 1.0),
            ("lambdaRange", new JsonArray(0.0, 2.0)), ("lambdaBound", "project")),
        Run("WUDI", "wudi", common),
        // AdaRank at AdaMerging's 500 steps, not the authors' 10,000 (20 times this table's budget; docs/reproduction.md says so).
        Run("AdaRank (task arithmetic)", "adarank", common, ("steps", AdaRankSteps(common))),
        Run("AdaRank (CART)", "adarank", common, ("base", "cart"), ("initialLambda", 2.3), ("initialRankRatio", 0.16), ("steps", AdaRankSteps(common))),
        Run("AdaRank over TSV-M parts", "adarank", common, ("base", "tsv"), ("initialLambda", 1.0), ("steps", AdaRankSteps(common))),
        // From Iso-CTS's own point, as the TSV-M row from TSV-M's (docs/algorithm.md, "AdaRank").
        Run("AdaRank over Iso-CTS", "adarank", common, ("base", "iso_cts"), ("initialLambda", 1.0), ("steps", AdaRankSteps(common))),
    ];

    /// <summary>AdaRank's steps: the table's (--steps) or AdaMerging's 500.</summary>
    private static int AdaRankSteps(JsonObject common) => common["steps"]?.GetValue<int>() ?? 500;

    /// <summary>
    /// The ResNet-18 benchmark's rows (docs/reproduction.md, "ResNet-18"): every method with the running statistics as
    /// <paramref name="common"/> says (the runs pass merge), then task arithmetic and layer-wise AdaMerging with them
    /// recomputed, the evidence for batchNormStatistics' default. RegMean solves the convolutions as linear maps of
    /// their patches (docs/algorithm.md, "RegMean"). AdaMerging over TSV-M's parts is left to the glyph ViT's table.
    /// </summary>
    public static IReadOnlyList<MethodRun> ResNetMethods(JsonObject common) =>
    [
        .. WithoutTsvParts(common),
        Run("task arithmetic, statistics recomputed", "task_arithmetic", common, ("batchNormStatistics", "recompute")),
        Run("layer-wise AdaMerging, statistics recomputed", "adamerging", common, ("granularity", "layer"), ("batchNormStatistics", "recompute")),
    ];

    /// <summary>
    /// The text benchmark's rows (docs/reproduction.md, "MiniLM"): every method but AdaMerging over TSV-M's parts (left
    /// to the glyph ViT's table), then AdaMerging at five times the learning rate: at 1e-3 each λ moves at most 0.1 in
    /// 100 steps and every one of them did, so these rows reach as far as the paper's 500 steps at 1e-3 could; and the
    /// AdaRank rows at 5e-3, for the same reason (a mask logit starts 0.1 from its threshold).
    /// </summary>
    public static IReadOnlyList<MethodRun> TextMethods(JsonObject common) =>
    [
        .. WithoutTsvParts(common),
        // The learned rows again at five times the learning rate (the summary says why; docs/reproduction.md, "MiniLM").
        .. WithoutTsvParts(common).Where(m => m.Label is "task-wise AdaMerging" or "layer-wise AdaMerging" || m.Label.StartsWith("AdaRank", StringComparison.Ordinal))
            .Select(m => m with { Label = m.Label + " at learning rate 5e-3", Options = With(m.Options, "learningRate", 5e-3) }),
    ];

    /// <summary>Every method of <see cref="AllMethods"/> but AdaMerging over TSV-M's parts, the glyph ViT's own rows.</summary>
    private static IEnumerable<MethodRun> WithoutTsvParts(JsonObject common) =>
        AllMethods(common).Where(m => !m.Label.Contains("TSV-M parts", StringComparison.Ordinal));

    private static MethodRun Run(string label, string method, JsonObject common, params (string Name, JsonNode? Value)[] extra)
    {
        // A method refuses options it does not take: pass on only the common options it declares.
        var takes = MergeMethods.OptionsOf(MergeMethods.Get(method)).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var options = new JsonObject(common.Where(kv => takes.Contains(kv.Key)).Select(kv => KeyValuePair.Create(kv.Key, kv.Value?.DeepClone())));
        foreach (var (name, value) in extra) options[name] = value;
        return new MethodRun(label, method, options);
    }

    /// <summary>A copy of a row's options with one more set; the row's own stay as they were.</summary>
    private static JsonObject With(JsonObject options, string name, JsonNode value)
    {
        var copy = options.DeepClone().AsObject();
        copy[name] = value;
        return copy;
    }
}
