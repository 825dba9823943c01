using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Tests.Support;

/// <summary>The committed tiny CLIP fixture made by tools/make_clip_fixture.py with real PyTorch.</summary>
public static class ClipTiny
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "clip_tiny");

    public static ClipVisionConfig Config { get; } =
        ClipVisionConfig.Parse(System.IO.File.ReadAllText(Path.Combine(Dir, "config.json")));

    public static string File(string name) => Path.Combine(Dir, name);

    public static ModelFolder OpenHuggingFace() => ModelFolder.Open(new Dictionary<string, string>
    {
        ["model.safetensors"] = File("model.safetensors"),
        ["config.json"] = File("config.json"),
    });

    public static ModelFolder OpenOpenClip() => ModelFolder.Open(new Dictionary<string, string> { ["open_clip.safetensors"] = File("open_clip.safetensors") });

    public static SafetensorsFile Io() => SafetensorsFile.Open(File("io.safetensors"));
}
