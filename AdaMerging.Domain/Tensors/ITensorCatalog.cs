namespace AdaMerging.Domain.Tensors;

/// <summary>What a checkpoint holds, known from its headers alone.</summary>
public interface ITensorCatalog
{
    /// <summary>The tensors in storage order.</summary>
    IReadOnlyList<TensorInfo> Tensors { get; }

    TensorInfo? Find(string name);
}
