using static TorchSharp.torch;

namespace AdaMerging.Domain.Tensors;

public static class TensorScalars
{
    /// <summary>A one-element tensor of any floating or integer dtype as a double (item&lt;T&gt; demands the exact type).</summary>
    public static double AsDouble(this Tensor t)
    {
        using var d = t.detach().to_type(ScalarType.Float64);
        return d.item<double>();
    }
}
