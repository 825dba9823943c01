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

    /// <summary>
    /// Rows [<paramref name="firstRow"/>, + <paramref name="rows"/>) of a tensor along its first dimension (a streamed
    /// merge's piece of it), converted to <paramref name="convertTo"/>: sources that can read only those rows' bytes.
    /// </summary>
    torch.Tensor ReadRowRange(string name, long firstRow, long rows, torch.ScalarType? convertTo = null)
    {
        using var whole = Read(name, convertTo);
        using var part = whole.dim() == 0 ? whole.alias() : whole.narrow(0, firstRow, rows);
        return part.clone();
    }

    /// <summary>
    /// Those rows into <paramref name="destination"/> (their element count, converted to its dtype): a streamed merge
    /// reuses its buffers, since memory the process has not touched yet costs a page fault per page.
    /// </summary>
    void ReadRowRangeInto(string name, long firstRow, long rows, torch.Tensor destination)
    {
        using var part = ReadRowRange(name, firstRow, rows, destination.dtype);
        using var flat = part.reshape(destination.shape);
        destination.copy_(flat);
    }
}
