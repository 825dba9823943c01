using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Models;

/// <summary>Loads the floating tensors of a state dict as a name → tensor dictionary in the compute dtype and device.</summary>
public static class ModelParameters
{
    public static Dictionary<string, Tensor> Load(ITensorSource source, ScalarType dtype, Device device, Func<string, bool>? include = null)
    {
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var t in source.Tensors.Where(t => t.DType.IsFloatingPoint && (include?.Invoke(t.Name) ?? true)))
            {
                using var read = source.Read(t.Name, dtype);
                parameters[t.Name] = read.to(device); // on the CPU a new handle to the same storage
            }
            return parameters;
        }
        catch
        {
            Dispose(parameters);
            throw;
        }
    }

    /// <summary>The runnable model of a folder and the parameters it reads, in the checkpoint's own names.</summary>
    public static (Architectures.IModel Model, Dictionary<string, Tensor> Parameters) LoadRunnable(ModelFolder folder, ScalarType dtype, Device device)
    {
        var spec = folder.Spec ?? throw new CheckpointFormatException(
            $"the checkpoint is not of an architecture this service can run ({Architectures.ModelArchitectures.Described()})");
        var parameters = Load(folder.Weights, dtype, device, spec.ReadsTensor);
        return (spec.CreateModel(folder.Weights), parameters);
    }

    /// <summary>
    /// <paramref name="use"/> applied, without a graph, to a folder's runnable model and its float32 parameters, both
    /// freed afterwards: what the reference checks and the benchmarks' ONNX checks do with a checkpoint.
    /// </summary>
    public static T Run<T>(ModelFolder folder, Device device, Func<Architectures.IModel, IReadOnlyDictionary<string, Tensor>, T> use)
    {
        var (model, θ) = LoadRunnable(folder, ScalarType.Float32, device);
        using (model)
        using (no_grad())
            try
            {
                return use(model, θ);
            }
            finally
            {
                Dispose(θ);
            }
    }

    public static void Dispose(IEnumerable<KeyValuePair<string, Tensor>> parameters)
    {
        foreach (var (_, t) in parameters) t.Dispose();
    }
}
