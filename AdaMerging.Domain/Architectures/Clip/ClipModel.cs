using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// A CLIP encoder over parameters in the checkpoint's own names: Hugging Face names go straight to the encoder,
/// open_clip names are mapped (with views, so autograd still reaches them). Merging happens in the checkpoint's
/// own layout, as AdaMerging's "layers" are (docs/algorithm.md, "Notation").
/// </summary>
public sealed class ClipModel : IModel
{
    private readonly OpenClipAsHuggingFace? _openClip;
    private readonly bool _ownsView;

    /// <param name="openClip">An open_clip checkpoint's mapping onto Hugging Face names, taken over by the model; null for Hugging Face names.</param>
    public ClipModel(ClipVisionConfig config, OpenClipAsHuggingFace? openClip = null)
    {
        Encoder = new ClipVisionEncoder(config);
        _openClip = openClip;
        _ownsView = true;
    }

    private ClipModel(ClipVisionEncoder encoder, OpenClipAsHuggingFace? openClip)
    {
        Encoder = encoder;
        _openClip = openClip;
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

    /// <summary>Each transformer block's q, k, v, out, fc1 and fc2 inputs (Hugging Face names) as the encoder applies them.</summary>
    public IModel Observed(Action<string, Tensor> linearInputs) => new ClipModel(new ClipVisionEncoder(Encoder.Config, linearInputs), _openClip);

    public void Dispose()
    {
        if (_ownsView) _openClip?.Dispose();
    }
}
