using System.Collections;
using TorchSharp;
using TorchSharp.PyBridge;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// A PyTorch state dict saved with torch.save (.bin, .pth, .pt), read through TorchSharp.PyBridge. PyBridge reads
/// the whole file into memory, so unlike safetensors the tensors are all resident while the source is open.
/// A dict that wraps the state dict under "state_dict" or "model" (as training checkpoints do) is unwrapped.
/// </summary>
public sealed class PickledStateDict : ITensorSource
{
    private readonly Dictionary<string, torch.Tensor> _tensors;
    private readonly Dictionary<string, TensorInfo> _infos;

    private PickledStateDict(Dictionary<string, torch.Tensor> tensors)
    {
        _tensors = tensors;
        _infos = tensors.ToDictionary(kv => kv.Key,
            kv => new TensorInfo(kv.Key, SafetensorsDType.FromTorch(kv.Value.dtype), kv.Value.shape), StringComparer.Ordinal);
        Tensors = _infos.Values.ToList();
    }

    public IReadOnlyList<TensorInfo> Tensors { get; }

    public static PickledStateDict Open(string path)
    {
        Hashtable table;
        try
        {
            table = PyTorchUnpickler.UnpickleStateDict(path);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new SafetensorsFormatException($"not a PyTorch state dict: {e.Message}", e);
        }
        var tensors = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        try
        {
            Collect(Unwrap(table), tensors);
            if (tensors.Count == 0) throw new SafetensorsFormatException("the PyTorch file holds no tensors");
            return new PickledStateDict(tensors);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    public TensorInfo? Find(string name) => _infos.GetValueOrDefault(name);

    public torch.Tensor Read(string name, torch.ScalarType? convertTo = null) =>
        _tensors.TryGetValue(name, out var tensor)
            ? SafetensorsFile.Convert(tensor.contiguous().clone(), convertTo)
            : throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
    }

    private static IDictionary Unwrap(Hashtable table)
    {
        foreach (var key in new[] { "state_dict", "model" })
            if (table.Count <= 4 && table[key] is IDictionary inner) return inner;
        return table;
    }

    private static void Collect(IDictionary table, Dictionary<string, torch.Tensor> tensors)
    {
        foreach (DictionaryEntry e in table)
        {
            if (e.Value is not torch.Tensor tensor) continue; // optimizer state, epochs and other non-tensor values
            var name = e.Key.ToString() ?? "";
            if (tensor.dtype is not (torch.ScalarType.Float32 or torch.ScalarType.Float64 or torch.ScalarType.Float16
                or torch.ScalarType.BFloat16 or torch.ScalarType.Int64 or torch.ScalarType.Int32 or torch.ScalarType.Int16
                or torch.ScalarType.Int8 or torch.ScalarType.Byte or torch.ScalarType.Bool))
                throw new SafetensorsFormatException($"tensor '{name}': dtype {tensor.dtype} is not supported");
            tensors[name] = tensor;
        }
    }
}
