using AdaMerging.Domain.Jobs;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Tests.Domain.Methods;

/// <summary>The registry and the options each method declares: what validation and the OpenAPI document are made of.</summary>
public class MergeMethodsTests
{
    private static (MethodOptions? Options, List<string> Problems) Parse(string method, string json)
    {
        var problems = new List<RequestProblem>();
        var options = MethodOptions.Parse(MergeMethods.Get(method), JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json), problems);
        Assert.All(problems, p => Assert.StartsWith("/options/", p.Pointer, StringComparison.Ordinal));
        return (options, problems.Select(p => p.Detail).ToList());
    }

    [Fact]
    public void The_registry_holds_the_five_methods_by_their_wire_names()
    {
        Assert.Equal(["weight_averaging", "task_arithmetic", "ties", "dare", "tsv", "iso_c", "iso_cts", "wudi", "regmean", "adamerging", "adarank"], MergeMethods.All.Select(m => m.Name));
        Assert.Null(MergeMethods.Find("magic"));
        Assert.Equal(["regmean", "adamerging", "adarank"], MergeMethods.All.Where(m => m.NeedsAdaptationData).Select(m => m.Name));
        Assert.Equal(["adamerging", "adarank"], MergeMethods.All.Where(m => m.NeedsHeads).Select(m => m.Name));
    }

    [Fact]
    public void Every_method_s_key_options_are_its_own_options_so_a_form_folds_the_rest()
    {
        foreach (var method in MergeMethods.All)
        {
            Assert.Equal(method.Options.Count > 0, method.KeyOptions.Count > 0); // a method with options of its own shows some unfolded
            Assert.All(method.KeyOptions, name => Assert.Contains(name, method.Options.Select(o => o.Name)));
            Assert.Equal(method.KeyOptions.Count, method.KeyOptions.Distinct().Count());
        }
        Assert.True(MergeMethods.Get("adamerging").KeyOptions.Count <= 8, "AdaMerging's form would show too much unfolded");
    }

    [Fact]
    public void Every_declared_default_passes_its_own_option_s_check()
    {
        foreach (var option in MergeMethods.All.SelectMany(MergeMethods.OptionsOf))
        {
            var parsed = option.Parse(JsonSerializer.SerializeToElement(option.WireDefault), out var problem);
            Assert.True(problem is null, $"{option.Name}: its default {JsonSerializer.Serialize(option.WireDefault)} is refused: {problem}");
            Assert.Equal(JsonSerializer.Serialize(option.BoxedDefault), JsonSerializer.Serialize(parsed));
        }
    }

    [Fact]
    public void Unset_options_take_their_declared_defaults()
    {
        var (options, problems) = Parse("task_arithmetic", "{}");
        Assert.Empty(problems);
        var wire = options!.Wire(MergeMethods.Get("task_arithmetic"));
        Assert.Equal(["batchNormStatistics", "embeddingRows", "evaluationBatchSize", "exclude", "lambda", "loraRank", "maxSequenceLength", "output", "shardBytes"],
            wire.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("auto", wire["batchNormStatistics"]);
        Assert.Equal("match", wire["embeddingRows"]);
        Assert.Equal("model", wire["output"]);
        Assert.Equal(16L, wire["loraRank"]);
        Assert.Equal(0.3, wire["lambda"]);
        Assert.Equal(64L, wire["evaluationBatchSize"]);
        Assert.Equal(5L << 30, wire["shardBytes"]);
        Assert.Empty((IEnumerable<string>)wire["exclude"]);
        var adamerging = Parse("adamerging", "{}").Options!.Wire(MergeMethods.Get("adamerging"));
        Assert.Equal(("entropy", "layer", 0.3), (adamerging["objective"], adamerging["granularity"], adamerging["initialLambda"]));   // the paper's
    }

    [Fact]
    public void An_option_the_method_does_not_take_is_refused_naming_the_methods_that_do()
    {
        var (options, problems) = Parse("task_arithmetic", """{"steps": 10, "temperature": 1}""");
        Assert.Null(options);
        Assert.Contains(problems, p => p.StartsWith("options.steps: task_arithmetic does not take this option (adamerging, adarank do)", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("options.temperature: no method has this option", StringComparison.Ordinal));
    }

    [Fact]
    public void Choices_are_snake_case_names_and_anything_else_is_refused_with_the_allowed_values()
    {
        var (options, problems) = Parse("adamerging", """{"precision": "bfloat16", "granularity": "task", "layerUnit": "block", "objective": "expert_kl"}""");
        Assert.Empty(problems);
        var settings = AdaMergingMethod.Settings(options!);
        Assert.Equal((Precision.Bfloat16, Granularity.Task, LayerUnit.Block, AdaMergingObjective.ExpertKl),
            (settings.Precision, settings.Granularity, settings.LayerUnit, settings.Objective));
        var (_, bad) = Parse("adamerging", """{"precision": "BFloat16"}""");
        Assert.Equal(["options.precision: 'BFloat16' is not one of float32, bfloat16"], bad);
        var (dare, _) = Parse("dare", """{"dareBase": "ties", "tiesMerge": "mean"}""");
        Assert.Equal((DareBase.Ties, TiesMerge.Mean), (DareMethod.MergeWith.In(dare!), TiesMethod.MergeRule.In(dare!)));
    }

    [Fact]
    public void DARE_has_its_own_seed()
    {
        var (options, problems) = Parse("dare", """{"seed": 5}""");
        Assert.Empty(problems);
        Assert.Equal(5, DareMethod.Seed.In(options!));
        Assert.Throws<ArgumentException>(() => AdaMergingMethod.Seed.In(options!));
    }

    [Fact]
    public void Ranges_are_checked_at_both_ends_and_open_ends_exclude_their_bound()
    {
        Assert.Equal(["options.topK: 0 is outside (0, 1]"], Parse("ties", """{"topK": 0}""").Problems);
        Assert.Empty(Parse("ties", """{"topK": 1}""").Problems);
        Assert.Equal(["options.dropRate: 1 is outside [0, 1)"], Parse("dare", """{"dropRate": 1}""").Problems);
        Assert.Equal(["options.steps: 100001 is outside 0-100000"], Parse("adamerging", """{"steps": 100001}""").Problems);
        Assert.Equal(["options.batchSize: '2.5' is not a whole number"], Parse("adamerging", """{"batchSize": 2.5}""").Problems);
    }
}
