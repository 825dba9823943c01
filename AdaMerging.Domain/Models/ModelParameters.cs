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

    /// <summary>The encoder of a CLIP model folder in Hugging Face names, whatever its layout.</summary>
    public static (ClipVisionEncoder Encoder, Dictionary<string, Tensor> Parameters) LoadClip(ModelFolder folder, ScalarType dtype, Device device)
    {
        if (folder.Layout == CheckpointLayout.Unknown || folder.Config is null)
            throw new CheckpointFormatException("the checkpoint is not a CLIP vision encoder this service can run (Hugging Face or open_clip layout)");
        using var view = folder.HuggingFaceView();
        return (new ClipVisionEncoder(folder.Config), Load(view, dtype, device, n => n != ClipVisionLayout.Prefix + "embeddings.position_ids"));
    }

    public static void Dispose(IEnumerable<KeyValuePair<string, Tensor>> parameters)
    {
        foreach (var (_, t) in parameters) t.Dispose();
    }
}
