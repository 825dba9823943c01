using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// A checkpoint's weights in the names its architecture runs on and writes merged models in (open_clip's fused
/// attention in Hugging Face's names, say); for most layouts the names as they are. Disposing it leaves the weights open.
/// </summary>
public interface IModelView : ITensorSource
{
    /// <summary>Parameters in the checkpoint's own names, shown in the view's (views of the originals: autograd reaches them).</summary>
    IReadOnlyDictionary<string, Tensor> Map(IReadOnlyDictionary<string, Tensor> native);
}

/// <summary>The weights under their own names.</summary>
public sealed class SameNames(ITensorSource inner) : IModelView
{
    public IReadOnlyList<TensorInfo> Tensors => inner.Tensors;

    public TensorInfo? Find(string name) => inner.Find(name);

    public Tensor Read(string name, ScalarType? convertTo = null) => inner.Read(name, convertTo);

    public void ReadInto(string name, Tensor destination) => inner.ReadInto(name, destination);

    public Tensor ReadRowRange(string name, long firstRow, long rows, ScalarType? convertTo = null) => inner.ReadRowRange(name, firstRow, rows, convertTo);

    public void ReadRowRangeInto(string name, long firstRow, long rows, Tensor destination) => inner.ReadRowRangeInto(name, firstRow, rows, destination);

    public IReadOnlyDictionary<string, Tensor> Map(IReadOnlyDictionary<string, Tensor> native) => native;

    public void Dispose() { }
}
