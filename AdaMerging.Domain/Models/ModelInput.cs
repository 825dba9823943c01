using static TorchSharp.torch;

namespace AdaMerging.Domain.Models;

/// <summary>
/// A model's input in a run's compute dtype: images are floating and run in it (bf16 when the task vectors are);
/// a text model's tokens are integer ids and stay so (a bf16 id would round, docs/algorithm.md, "Text models").
/// </summary>
public static class ModelInput
{
    public static Tensor InComputeType(Tensor input, ScalarType computeType) => input.is_floating_point() ? input.to_type(computeType) : input.alias();

    /// <summary>The dtype a head is applied in: the images', or for tokens the head's own.</summary>
    public static ScalarType HeadType(Tensor input, ClassificationHead head) => input.is_floating_point() ? input.dtype : head.Weight.dtype;
}
