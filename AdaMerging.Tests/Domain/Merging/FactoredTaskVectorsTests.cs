using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Merging;

/// <summary>
/// LoRA adapters' task vectors kept factored (docs/algorithm.md, "AdaMerging over LoRA adapters") against the same
/// vectors densified: every merge and every tensor's part of ∂L/∂λ, on tools/make_lora_fixture.py's adapters (linear,
/// embedding, convolution, fan_in_fan_out, lora_bias, modules_to_save) beside a full fine-tune, in a fraction of the memory.
/// </summary>
public sealed class FactoredTaskVectorsTests : TempDirectoryTests
{
    [Fact]
    public void Factored_vectors_merge_and_contract_gradients_as_the_densified_ones_do()
    {
        using var theta0 = ModelFolder.Open(LoraFixtures.Base());
        var adapters = LoraFixtures.Adapters.Select(a => ModelFolder.Open(LoraFixtures.Adapter(a))).ToList();
        var full = Dir.File("full.safetensors");
        var g = new Generator(3);
        TestCheckpoints.Save(full, theta0.Weights.Tensors.ToDictionary(t => t.Name, t => theta0.Weights.Read(t.Name).Plus(randn([.. t.Shape], generator: g).Times(0.1))));
        using var fullSource = SafetensorsFile.Open(full);
        List<ITensorSource> tasks = [.. adapters.Select(a => a.WeightsNamedAs(theta0)), fullSource];
        var names = TaskVectors.MergedNames(theta0.Weights, tasks, []);
        using var dense = TaskVectors.Load(theta0.Weights, tasks, [], ScalarType.Float32, CPU);
        using var factored = FactoredTaskVectors.Load(theta0.Weights, tasks, names, ScalarType.Float32, CPU);
        Assert.True(FactoredTaskVectors.Applies(tasks));

        using var perTensor = rand([names.Count, tasks.Count], generator: g);
        using var fromDense = empty(dense.ParameterCount);
        using var fromFactors = empty(factored.ParameterCount);
        dense.MergeInto(fromDense, perTensor);
        factored.MergeInto(fromFactors, perTensor);
        Assert.True(fromFactors.allclose(fromDense, rtol: 1e-5, atol: 1e-5), $"largest difference {fromFactors.Plus(fromDense.neg()).abs().max().item<float>()}");
        for (int i = 0; i < names.Count; i++)
        {
            using var scope = NewDisposeScope();
            var gradient = randn([.. factored.ShapeOf(i)], generator: g);
            Assert.True(factored.TensorGradient(i, gradient).allclose(dense.TensorGradient(i, gradient), rtol: 1e-4, atol: 1e-4), names[i]);
        }
        // The four adapters are a fraction of the dense vectors they stand for; the full fine-tune is dense either way.
        Assert.True(factored.Bytes < 0.6 * dense.Bytes, $"{factored.Bytes} bytes factored against {dense.Bytes} dense");
        adapters.ForEach(a => a.Dispose());
    }
}
