using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures.Clip;

/// <summary>
/// CLIP ViT image encoders: Hugging Face's CLIPVisionModel (or a full CLIPModel, its text tower carried) and open_clip's
/// visual tower, recognised from tensor names; the config from config.json (checked against the shapes) or read off
/// the shapes (docs/algorithm.md, "The model").
/// </summary>
public sealed class ClipVisionArchitecture : IArchitecture, IReferenceChecked, IRandomProblems
{
    public const string HuggingFaceLayout = "hugging_face_clip_vision";
    public const string OpenClipLayout = "open_clip";

    public string Name => "clip_vision";

    public string Summary => "CLIP ViT image encoders: Hugging Face CLIPVisionModel or CLIPModel, or open_clip";

    public IReadOnlyList<string> Layouts { get; } = [HuggingFaceLayout, OpenClipLayout];

    /// <summary>
    /// The tokenizer (Hugging Face's vocab.json and merges.txt, open_clip's BPE file) and Hugging Face's tokenizer and
    /// processor settings: stored, carried into a merged full CLIP, never read as weights.
    /// </summary>
    public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        ClipTokenizer.VocabularyFile, ClipTokenizer.MergesFile, ClipTokenizer.OpenClipFile,
        "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "preprocessor_config.json", OpenClipConfig.FileName,
    };

    public IEnumerable<(string Name, double Difference)> ReferenceChecks(string fixtures, TorchSharp.torch.Device device) => ClipReferenceChecks.Run(fixtures, device);

    /// <summary>The benchmark shapes (<see cref="ModelShapes"/>): tiny, small, vit-b-32, vit-l-14.</summary>
    public IReadOnlyList<string> Sizes => [.. ModelShapes.ByName.Keys];

    public string Describe(string size)
    {
        var c = ModelShapes.Named(size);
        return $"hidden {c.HiddenSize}, {c.NumHiddenLayers} layers, {c.ImageSize} px";
    }

    public IRandomProblem Random(string size, int k, int batch, TorchSharp.torch.ScalarType dtype, TorchSharp.torch.Device device) =>
        new RandomProblem(ModelShapes.Named(size), k, batch, dtype, device: device);

    public ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        var layout = OpenClipAsHuggingFace.IsOpenClip(weights) ? OpenClipLayout
            : ClipVisionLayout.IsHuggingFace(weights) ? HuggingFaceLayout
            : null;
        if (layout is null) return null;
        // config.json first; else open_clip's own config file; else the shapes (heads as hidden/64, quick_gelu).
        var openClip = files.ConfigJson is null && files.SideFiles.TryGetValue(OpenClipConfig.FileName, out var openClipPath) ? OpenClipConfig.Read(openClipPath) : null;
        var config = files.ConfigJson is { } json ? ClipVisionConfig.Parse(json) : openClip?.Vision;
        bool inferred = config is null;
        using var view = layout == OpenClipLayout ? new OpenClipAsHuggingFace(new SameNames(weights)) : (IModelView)new SameNames(weights);
        config ??= ClipVisionLayout.Infer(view);
        var mismatches = ClipVisionLayout.Mismatches(config, view);
        if (mismatches.Count > 0)
            throw new Checkpoints.CheckpointFormatException(
                $"the weights do not match {(inferred ? "the config their shapes imply" : openClip is not null ? OpenClipConfig.FileName : "config.json")}: {string.Join("; ", mismatches)}");
        int featureSize = view.Find(ClipVisionLayout.Projection) is not null ? config.ProjectionDim : config.HiddenSize;
        return new ClipVisionSpec(this, layout, config, inferred, featureSize, view.Find(ClipTextLayout.TokenEmbedding) is not null)
        {
            Normalization = openClip?.Normalization,
        };
    }
}
