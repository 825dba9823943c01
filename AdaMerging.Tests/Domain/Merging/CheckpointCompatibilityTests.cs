using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Merging;

/// <summary>What a task checkpoint may be beside its base: a subset of its floating tensors, shape for shape.</summary>
public class CheckpointCompatibilityTests
{
    private static InMemoryTensorSource Catalog(params (string Name, long[] Shape)[] tensors) =>
        new(tensors.ToDictionary(t => t.Name, t => zeros(t.Shape)));

    private static readonly InMemoryTensorSource Base = Catalog(("vision.a", [2, 3]), ("vision.b", [3]), ("text.c", [4]), ("projection", [5, 2]));

    [Fact]
    public void A_task_without_the_base_s_text_tower_or_projection_is_accepted_and_only_shared_tensors_merge()
    {
        var task = Catalog(("vision.a", [2, 3]), ("vision.b", [3]));
        Assert.Empty(CheckpointCompatibility.Differences(Base, "task 't'", task));
        Assert.Null(CheckpointCompatibility.NothingShared(Base, [task]));
        using var vectors = TaskVectors.Load(Base, [task], [], ScalarType.Float32, CPU);
        Assert.Equal(["vision.a", "vision.b"], vectors.Names);
    }

    [Fact]
    public void A_tensor_the_base_lacks_or_of_another_shape_is_named()
    {
        var task = Catalog(("vision.a", [3, 2]), ("vision.b", [3]), ("extra.d", [7]));
        Assert.Equal(
        [
            "task 't' has 'vision.a' with shape [3, 2] where the base has [2, 3]",
            "task 't' has tensor 'extra.d' [7] that the base lacks",
        ], CheckpointCompatibility.Differences(Base, "task 't'", task));
    }

    [Fact]
    public void A_tensor_merges_only_when_every_task_has_it()
    {
        var one = Catalog(("vision.a", [2, 3]), ("vision.b", [3]));
        var other = Catalog(("vision.a", [2, 3]));
        using var vectors = TaskVectors.Load(Base, [one, other], [], ScalarType.Float32, CPU);
        Assert.Equal(["vision.a"], vectors.Names);
    }

    [Fact]
    public void Tasks_that_share_nothing_with_the_base_are_refused()
    {
        Assert.Equal("the base and the tasks share no floating tensor: nothing would be merged",
            CheckpointCompatibility.NothingShared(Base, [Catalog(("other", [1]))]));
    }
}
