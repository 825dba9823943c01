using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Infrastructure.Runs;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Infrastructure.Runs;

/// <summary>
/// Merges whose tasks are PEFT LoRA adapters (docs/algorithm.md, "LoRA adapters"): task arithmetic against
/// tools/make_lora_fixture.py's reference, in memory and streamed, on a float32 base and a bfloat16 one (rounded once);
/// every data-free method over adapters as over the full models they make.
/// </summary>
public sealed class LoraMergeRunTests : TempDirectoryTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(600L)]
    public void Task_arithmetic_over_four_adapters_is_PEFT_s_models_merged(long streamWorkingBytes)
    {
        var output = Dir.File("merged");
        var report = MergeRun.Execute(Plans.For("task_arithmetic", $"{{\"lambda\": {LoraFixtures.Lambda}}}", LoraFixtures.Base(), LoraFixtures.Tasks()), CPU, output,
            streamWorkingBytes: streamWorkingBytes);
        using var merged = SafetensorsFile.Open(Path.Combine(output, "model.safetensors"));
        using var expected = SafetensorsFile.Open(LoraFixtures.File("merged_ta.safetensors"));
        Assert.Equal(expected.Tensors.Count, report.MergedTensors);
        foreach (var t in expected.Tensors)
        {
            using var scope = NewDisposeScope();
            var actual = merged.Read(t.Name);
            Assert.Equal(ScalarType.Float32, actual.dtype);
            Assert.True(actual.to_type(ScalarType.Float64).allclose(expected.Read(t.Name), rtol: 1e-6, atol: 1e-6), t.Name);
        }
    }

    [Fact]
    public void A_bfloat16_base_merged_with_adapters_is_the_float64_result_rounded_once()
    {
        var output = Dir.File("merged");
        MergeRun.Execute(Plans.For("task_arithmetic", $"{{\"lambda\": {LoraFixtures.Lambda}}}", LoraFixtures.Base(bfloat16: true), LoraFixtures.Tasks()), CPU, output,
            streamWorkingBytes: 600);
        using var merged = SafetensorsFile.Open(Path.Combine(output, "model.safetensors"));
        using var expected = SafetensorsFile.Open(LoraFixtures.File("merged_ta_bf16.safetensors"));
        foreach (var t in expected.Tensors)
        {
            using var scope = NewDisposeScope();
            var actual = merged.Read(t.Name);
            Assert.Equal(ScalarType.BFloat16, actual.dtype);
            Assert.True(actual.equal(expected.Read(t.Name)).all().item<bool>(), t.Name);
        }
    }

    public static TheoryData<string, string> Methods => new()
    {
        { "weight_averaging", "{}" },
        { "ties", "{\"topK\": 0.3}" },
        { "dare", "{\"dropRate\": 0.5, \"seed\": 17}" },
        { "tsv", "{}" },
        { "iso_cts", "{}" },
    };

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_merges_adapters_as_it_merges_the_full_models_they_make(string method, string options)
    {
        List<PlannedTask> dense;
        using (var theta0 = ModelFolder.Open(LoraFixtures.Base()))
            dense = [.. LoraFixtures.Tasks().Select(t => t with { CheckpointFiles = LoraFixtures.Densified(t.CheckpointFiles, theta0, Dir.File($"{t.Name}.safetensors")) })];
        var (fromAdapters, fromDense) = (Dir.File("adapters"), Dir.File("dense"));
        MergeRun.Execute(Plans.For(method, options, LoraFixtures.Base(), LoraFixtures.Tasks()), CPU, fromAdapters, streamWorkingBytes: 0);
        MergeRun.Execute(Plans.For(method, options, LoraFixtures.Base(), dense), CPU, fromDense, streamWorkingBytes: 0);
        Assert.Equal(File.ReadAllBytes(Path.Combine(fromDense, "model.safetensors")), File.ReadAllBytes(Path.Combine(fromAdapters, "model.safetensors")));
    }

    [Fact]
    public void The_model_card_lists_the_base_and_every_adapter_as_base_models_and_is_tagged_lora()
    {
        var output = Dir.File("merged");
        var tasks = LoraFixtures.Tasks().Select(t => t with { CheckpointName = $"user/{t.Name}-adapter" }).ToList();
        MergeRun.Execute(Plans.For("ties", "{}", LoraFixtures.Base(), tasks) with { BaseName = "user/base" }, CPU, output);
        var card = File.ReadAllText(Path.Combine(output, "README.md"));
        Assert.StartsWith("---\nbase_model:\n- \"user/base\"\n- \"user/plain-adapter\"\n- \"user/rslora-adapter\"\n- \"user/conv1d-adapter\"\n"
            + "- \"user/modules_to_save-adapter\"\nbase_model_relation: merge\nmerge_method: ties\n", card, StringComparison.Ordinal);
        Assert.Contains("- {\"role\":\"task 'rslora'\",\"file\":\"adapter_config.json\",\"sha256\":\"", card, StringComparison.Ordinal);
        Assert.Contains("tags:\n- merge\n- adamerging\n- ties\n- lora\n---\n", card, StringComparison.Ordinal);
    }
}
