using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Checkpoints.Lora;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Checkpoints;

/// <summary>
/// PEFT LoRA adapters read as task checkpoints (docs/algorithm.md, "LoRA adapters") against tools/make_lora_fixture.py,
/// written from PEFT's formulas: linear, embedding and convolution factors, rsLoRA with alpha_pattern and rank_pattern,
/// lora_bias, fan_in_fan_out (GPT-2's Conv1D) with a trained bias, modules_to_save; and what is refused.
/// </summary>
public sealed class LoraAdaptersTests : TempDirectoryTests
{
    public static TheoryData<string> Adapters => [.. LoraFixtures.Adapters];

    [Theory]
    [MemberData(nameof(Adapters))]
    public void An_adapter_read_under_its_base_s_names_is_the_model_PEFT_s_formulas_make_of_the_base(string adapter)
    {
        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        using var folder = ModelFolder.Open(LoraFixtures.Adapter(adapter));
        using var expected = SafetensorsFile.Open(LoraFixtures.File($"dense_{adapter}.safetensors"));
        var task = folder.WeightsNamedAs(theta0);

        Assert.Equal(LoraAdapter.Layout, folder.Layout);
        Assert.Equal(theta0.Weights.Tensors.Select(t => t.Name), task.Tensors.Select(t => t.Name));
        Assert.Empty(CheckpointCompatibility.Differences(theta0.Weights, "task", task));
        foreach (var t in expected.Tensors)
        {
            using var scope = NewDisposeScope();
            var reference = expected.Read(t.Name);
            // The factors are float32 and the delta is computed from them in float64: only the order of the sums differs.
            Assert.True(task.Read(t.Name, ScalarType.Float64).allclose(reference, rtol: 1e-12, atol: 1e-12), $"{adapter}: {t.Name}");
            Assert.True(task.Read(t.Name).allclose(reference.to_type(ScalarType.Float32), rtol: 1e-6, atol: 1e-6), $"{adapter}: {t.Name} in float32");
        }
    }

    [Theory]
    [MemberData(nameof(Adapters))]
    public void Rows_of_an_adapted_tensor_are_the_rows_of_the_whole_one(string adapter)
    {
        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        using var folder = ModelFolder.Open(LoraFixtures.Adapter(adapter));
        var task = folder.WeightsNamedAs(theta0);
        foreach (var t in task.Tensors.Where(t => t.Shape.Count > 0 && t.Shape[0] > 2))
        {
            using var scope = NewDisposeScope();
            var whole = task.Read(t.Name, ScalarType.Float64);
            Assert.True(task.ReadRowRange(t.Name, 1, 2, ScalarType.Float64).allclose(whole.narrow(0, 1, 2), rtol: 1e-14, atol: 1e-14), $"{adapter}: {t.Name}");
        }
    }

    [Fact]
    public void Adapted_tensors_are_listed_in_float32_and_the_rest_are_the_base_s_own()
    {
        using var theta0 = ModelFolder.Open(LoraFixtures.Base(bfloat16: true));
        using var folder = ModelFolder.Open(LoraFixtures.Adapter("plain"));
        var task = folder.WeightsNamedAs(theta0);
        Assert.Equal(SafetensorsDType.F32, task.Find("model.layers.0.self_attn.q_proj.weight")!.DType);
        Assert.Equal(SafetensorsDType.BF16, task.Find("model.norm.weight")!.DType);
        using var norm = task.Read("model.norm.weight");
        using var own = theta0.Weights.Read("model.norm.weight");
        Assert.True(norm.equal(own).all().item<bool>());
        Assert.Equal("fixtures/lora-base", folder.Adapter!.Config.BaseModel);
    }

    [Fact]
    public void An_adapter_naming_a_module_the_base_lacks_is_refused_naming_it()
    {
        var files = Copy("plain", rename: ("v_proj", "k_proj"));
        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        using var folder = ModelFolder.Open(files);
        var differences = CheckpointCompatibility.Differences(theta0.Weights, "task 'k'", folder.WeightsNamedAs(theta0));
        Assert.Equal(["task 'k' has tensor 'model.layers.0.self_attn.k_proj.weight' [6, 8] that the base lacks"], differences);
    }

    [Fact]
    public void An_adapter_for_a_bare_model_is_read_over_a_base_saved_with_its_model_prefix()
    {
        var files = Copy("plain", rename: ("base_model.model.model.", "base_model.model."));
        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        using var folder = ModelFolder.Open(files);
        using var expected = SafetensorsFile.Open(LoraFixtures.File("dense_plain.safetensors"));
        var task = folder.WeightsNamedAs(theta0);
        Assert.Empty(CheckpointCompatibility.Differences(theta0.Weights, "task", task));
        using var q = task.Read("model.layers.0.self_attn.q_proj.weight", ScalarType.Float64);
        using var reference = expected.Read("model.layers.0.self_attn.q_proj.weight");
        Assert.True(q.allclose(reference, rtol: 1e-12, atol: 1e-12));
    }

    [Theory]
    [InlineData("{\"peft_type\": \"IA3\"}", "peft_type is IA3: only LoRA adapters (LORA) are read")]
    [InlineData("{\"peft_type\": \"LORA\", \"r\": 4, \"use_dora\": true}", "use_dora is true: DoRA adapters")]
    [InlineData("{\"peft_type\": \"LORA\", \"alpha_pattern\": {\"q_proj\": \"big\"}}", "alpha_pattern's 'q_proj' is not a number")]
    [InlineData("[1]", "adapter_config.json is not a JSON object")]
    public void An_adapter_config_that_is_not_a_LoRA_one_is_refused_saying_why(string config, string expected)
    {
        var files = Copy("plain");
        File.WriteAllText(files[LoraConfig.FileName], config);
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFolder.Open(files));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_factor_without_its_partner_is_refused_naming_the_module()
    {
        var files = Copy("plain");
        var weights = files["adapter_model.safetensors"];
        using (var source = SafetensorsFile.Open(weights))
        {
            var kept = source.Tensors.Where(t => !t.Name.EndsWith("v_proj.lora_B.weight", StringComparison.Ordinal))
                .ToDictionary(t => t.Name, t => source.Read(t.Name));
            File.Delete(weights);
            TestCheckpoints.Save(weights, kept);
        }
        var e = Assert.Throws<CheckpointFormatException>(() => ModelFolder.Open(files));
        Assert.Contains("module 'model.layers.0.self_attn.v_proj' has lora_A without lora_B", e.Message);
    }

    [Fact]
    public void An_adapter_as_the_base_is_refused_saying_the_base_is_the_full_model()
    {
        using var adapter = ModelFolder.Open(LoraFixtures.Adapter("plain"));
        Assert.Contains("the base is a LoRA adapter", CheckpointCompatibility.BaseProblem(adapter));
        Assert.Contains("'fixtures/lora-base'", CheckpointCompatibility.BaseProblem(adapter));
        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        Assert.Null(CheckpointCompatibility.BaseProblem(theta0));
    }

    /// <summary>An adapter folder copied here, its tensor names rewritten by <paramref name="rename"/> (old text → new).</summary>
    private Dictionary<string, string> Copy(string adapter, (string From, string To)? rename = null)
    {
        var dir = Dir.File($"{adapter}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var files = LoraFixtures.Adapter(adapter).ToDictionary(f => f.Key, f => Path.Combine(dir, f.Key));
        File.Copy(LoraFixtures.Adapter(adapter)[LoraConfig.FileName], files[LoraConfig.FileName]);
        using var source = SafetensorsFile.Open(LoraFixtures.Adapter(adapter)["adapter_model.safetensors"]);
        TestCheckpoints.Save(files["adapter_model.safetensors"], source.Tensors.ToDictionary(
            t => rename is var (from, to) ? t.Name.Replace(from, to, StringComparison.Ordinal) : t.Name, t => source.Read(t.Name)));
        return files;
    }
}
