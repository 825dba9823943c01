namespace AdaMerging.Domain.Checkpoints;

public enum CheckpointLayout
{
    /// <summary>Not a CLIP vision encoder we know; generic merges still work on it tensor by tensor.</summary>
    Unknown,

    /// <summary>Hugging Face CLIPVisionModel (vision_model.*, optionally visual_projection.weight).</summary>
    HuggingFaceClipVision,

    /// <summary>open_clip's visual tower (visual.*), the layout of the paper's own checkpoints.</summary>
    OpenClip,
}
