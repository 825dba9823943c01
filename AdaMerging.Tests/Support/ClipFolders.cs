using AdaMerging.Tests.Support;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support;

/// <summary>What the CLIP tests read of a folder the registry recognised as a CLIP (its <see cref="ClipVisionSpec"/>).</summary>
public static class ClipFolders
{
    extension(ModelFolder folder)
    {
        /// <summary>The CLIP vision config, or null when the folder is not a CLIP.</summary>
        public ClipVisionConfig? Config => (folder.Spec as ClipVisionSpec)?.Config;

        public bool HasTextTower => (folder.Spec as ClipVisionSpec)?.HasTextTower == true;

        /// <summary>The weights in Hugging Face CLIP names.</summary>
        public ITensorSource HuggingFaceView() => folder.View();

        public ClipTokenizer? Tokenizer() => ClipTokenizer.FromFiles(folder.SideFiles);
    }

    /// <summary>The vision encoder of a CLIP folder and its parameters in Hugging Face names, whatever the layout.</summary>
    public static (ClipVisionEncoder Encoder, Dictionary<string, Tensor> Parameters) LoadClip(ModelFolder folder, ScalarType dtype, Device device)
    {
        var config = folder.Config ?? throw new CheckpointFormatException("not a CLIP");
        using var view = folder.View();
        return (new ClipVisionEncoder(config), ModelParameters.Load(view, dtype, device));
    }
}
