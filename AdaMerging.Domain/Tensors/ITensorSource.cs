using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>A state dict whose tensors are listed up front and read one at a time, on demand.</summary>
public interface ITensorSource : ITensorCatalog, IDisposable
{
    /// <summary>Reads one tensor on the CPU in its stored dtype, or converted to <paramref name="convertTo"/>.</summary>
    torch.Tensor Read(string name, torch.ScalarType? convertTo = null);

    /// <summary>
    /// Reads one tensor into <paramref name="destination"/> (same element count, converted to its dtype and device):
    /// sources that can, read the bytes straight into it, so loading makes no temporary of the tensor's size.
    /// </summary>
    void ReadInto(string name, torch.Tensor destination)
    {
        using var value = Read(name, destination.dtype);
        using var shaped = value.reshape(destination.shape);
        destination.copy_(shaped);
    }
}
