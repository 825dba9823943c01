using AdaMerging.Domain.Checkpoints;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Models;

/// <summary>
/// A CLIP encoder over parameters in the checkpoint's own names: Hugging Face names go straight to the encoder,
/// open_clip names are mapped (with views, so autograd still reaches them). Merging happens in the checkpoint's
/// own layout, as AdaMerging's "layers" are (docs/algorithm.md, "Notation").
/// </summary>
public sealed class ClipModel : IFeatureStages, IDisposable
{
    private readonly OpenClipAsHuggingFace? _openClip;

    public ClipModel(ModelFolder folder)
    {
        if (folder.Layout == CheckpointLayout.Unknown || folder.Config is null)
            throw new CheckpointFormatException("the base checkpoint is not a CLIP vision encoder (Hugging Face or open_clip layout), so it cannot be run");
        Encoder = new ClipVisionEncoder(folder.Config);
        _openClip = folder.Layout == CheckpointLayout.OpenClip ? (OpenClipAsHuggingFace)folder.HuggingFaceView() : null;
    }

    public ClipVisionEncoder Encoder { get; }

    /// <summary>Whether the vision encoder reads this tensor of a checkpoint (either layout); a text tower's it never does.</summary>
    public static bool ReadsTensor(string name) =>
        name.StartsWith(ClipVisionLayout.Prefix, StringComparison.Ordinal) || name == ClipVisionLayout.Projection
        || name.StartsWith(OpenClipAsHuggingFace.VisualPrefix, StringComparison.Ordinal);

    public Tensor Features(IReadOnlyDictionary<string, Tensor> nativeParameters, Tensor pixels) => FeatureStages.Features(this, nativeParameters, pixels);

    public int StageCount => Encoder.StageCount;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) =>
        _openClip is null ? nativeParameters : _openClip.Map(nativeParameters);

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x) => Encoder.Stage(stage, θ, x);

    public void Dispose() => _openClip?.Dispose();
}
