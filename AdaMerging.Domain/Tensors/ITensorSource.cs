using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>A state dict whose tensors are listed up front and read one at a time, on demand.</summary>
public interface ITensorSource : ITensorCatalog, IDisposable
{
    /// <summary>Reads one tensor on the CPU in its stored dtype, or converted to <paramref name="convertTo"/>.</summary>
    torch.Tensor Read(string name, torch.ScalarType? convertTo = null);
}
