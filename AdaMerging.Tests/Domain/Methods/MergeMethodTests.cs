using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Methods;

public class MergeMethodTests
{
    private static TaskVectors Vectors(params float[][] tasks)
    {
        var theta0 = new Dictionary<string, Tensor> { ["w"] = zeros(4), ["ids"] = arange(RootedScalars.Of(4)) };
        var sources = tasks.Select(t => (AdaMerging.Domain.Tensors.ITensorSource)new AdaMerging.Domain.Tensors.InMemoryTensorSource(
            new Dictionary<string, Tensor> { ["w"] = tensor(t), ["ids"] = arange(RootedScalars.Of(4)) })).ToList();
        return TaskVectors.Load(new AdaMerging.Domain.Tensors.InMemoryTensorSource(theta0), sources, [], ScalarType.Float32, CPU);
    }

    /// <summary>Task k's vector of the one merged tensor "w".</summary>
    private static float[] Tau(TaskVectors vectors, int k) => vectors.TaskRow(k).data<float>().ToArray();

    [Fact]
    public void TIES_trims_elects_and_keeps_agreeing_entries_as_the_spec_says()
    {
        // top-k 0.5 of 4 entries keeps ⌊4 · 0.5⌋ + 1 = 3 of them, as the official topk_values_mask does.
        using var v = Vectors([3, -1, 0.5f, 2], [-2, -4, 0.1f, 5]);
        using var processed = Ties.Process(v, topK: 0.5);
        // Trimmed: [3, −1, 0, 2] and [−2, −4, 0, 5]; elected signs [+, −, majority (+), +].
        Assert.Equal(new float[] { 3, -1, 0, 2 }, Tau(processed, 0));
        Assert.Equal(new float[] { 0, -4, 0, 5 }, Tau(processed, 1));
        // TIES-merging itself at λ = 1 over θ0 = 0: the merged agreeing entries.
        Assert.Equal(new float[] { 3, -5, 0, 7 }, Ties.Apply(v, 0.5, TiesMerge.Sum, 1.0)["w"].data<float>().ToArray());
        Assert.Equal(new float[] { 3, -2.5f, 0, 3.5f }, Ties.Apply(v, 0.5, TiesMerge.Mean, 1.0)["w"].data<float>().ToArray());
        Assert.Equal(new float[] { 0.3f * 3, 0.3f * -2.5f, 0, 0.3f * 3.5f }, Ties.Apply(v, 0.5, TiesMerge.Mean, 0.3)["w"].data<float>().ToArray());
    }

    [Fact]
    public void The_trim_threshold_is_exactly_torch_kthvalue_of_the_magnitudes_at_every_rank()
    {
        var g = new TorchSharp.torch.Generator(3);
        using var signed = randn(20_000_003, generator: g);
        using var rounded = signed.Times(100).round();   // many exact duplicates around every rank
        foreach (var values in new[] { signed, rounded })
        {
            using var magnitudes = values.abs();
            foreach (var rank in new long[] { 1, 2, 1_000_000, 10_000_001, 16_000_000, 20_000_002, 20_000_003 })
                Assert.Equal(magnitudes.kthvalue(rank, 0, false).values.item<float>(), Ties.KthSmallestMagnitude(values, rank));
        }
    }

    [Fact]
    public void Where_the_elected_sum_is_zero_the_majority_sign_decides()
    {
        // Entry 2 sums to exactly 0 (1 − 1); the elected signs elsewhere are mostly negative, so −1 wins there.
        using var v = Vectors([1, -5, 1, -3], [-1, -4, -1, -2]);
        using var processed = Ties.Process(v, topK: 1.0);
        Assert.Equal(new float[] { 0, -5, 0, -3 }, Tau(processed, 0));
        Assert.Equal(new float[] { -1, -4, -1, -2 }, Tau(processed, 1));
    }

    [Fact]
    public void Integer_tensors_are_never_task_vectors_and_exclusions_stay_at_the_base()
    {
        using var v = Vectors([1, 2, 3, 4]);
        Assert.Equal(["w"], v.Names);
        var theta0 = new Dictionary<string, Tensor> { ["a.weight"] = zeros(2), ["b.weight"] = zeros(2) };
        var task = new Dictionary<string, Tensor> { ["a.weight"] = ones(2), ["b.weight"] = ones(2) };
        using var excluded = TaskVectors.Load(new AdaMerging.Domain.Tensors.InMemoryTensorSource(theta0), [new AdaMerging.Domain.Tensors.InMemoryTensorSource(task)], ["^b\\."], ScalarType.Float32, CPU);
        Assert.Equal(["a.weight"], excluded.Names);
    }

    [Fact]
    public void DARE_drops_about_p_of_the_entries_rescales_the_rest_and_is_seeded()
    {
        var theta0 = new Dictionary<string, Tensor> { ["w"] = zeros(10_000) };
        var task = new Dictionary<string, Tensor> { ["w"] = ones(10_000) };
        using var v = TaskVectors.Load(new AdaMerging.Domain.Tensors.InMemoryTensorSource(theta0), [new AdaMerging.Domain.Tensors.InMemoryTensorSource(task)], [], ScalarType.Float32, CPU);
        using var once = Dare.Apply(v, 0.9, seed: 4);
        using var again = Dare.Apply(v, 0.9, seed: 4);
        using var other = Dare.Apply(v, 0.9, seed: 5);
        var dropped = once.TaskRow(0);
        var kept = dropped.ne(RootedScalars.Zero).sum().item<long>();
        Assert.InRange(kept, 900, 1100);
        Assert.Equal(10f, dropped.max().item<float>(), 4);
        Assert.Equal(kept * 10f, dropped.sum().item<float>(), 1); // each kept entry rescaled to 1 / (1 − p)
        Assert.True(dropped.equal(again.TaskRow(0)).all().item<bool>());
        Assert.False(dropped.equal(other.TaskRow(0)).all().item<bool>());
    }

    [Fact]
    public void Block_granularity_gives_one_row_per_block_of_the_architecture_plus_embeddings_and_head()
    {
        string[] names = ["vision_model.embeddings.patch_embedding.weight", "vision_model.pre_layrnorm.weight",
            "vision_model.encoder.layers.0.mlp.fc1.weight", "vision_model.encoder.layers.0.mlp.fc2.weight",
            "vision_model.encoder.layers.1.mlp.fc1.weight", "vision_model.post_layernorm.weight", "visual_projection.weight"];
        var map = LayerMap.Create(names, Granularity.Layer, LayerUnit.Block, ClipVisionSpec.Block);
        Assert.Equal(["embeddings", "block 0", "block 1", "head"], map.RowNames);
        // Without an architecture nothing is known of blocks: every tensor is "before the blocks", one row.
        Assert.Equal(["embeddings", "head"], LayerMap.Create(names, Granularity.Layer, LayerUnit.Block).RowNames);
        Assert.Equal([0, 0, 1, 1, 2, 3, 3], names.Select(map.RowOf));
        Assert.Equal(7, LayerMap.Create(names, Granularity.Layer, LayerUnit.Tensor).Rows);
        Assert.Equal(1, LayerMap.Create(names, Granularity.Task, LayerUnit.Tensor).Rows);
    }
}
