using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Tests.Support;

/// <summary>The committed tiny ResNets made by tools/make_resnet_fixture.py with real PyTorch (basic and bottleneck blocks, both layouts).</summary>
public static class ResNetTiny
{
    public static string Dir(string variant = "basic") => Path.Combine(AppContext.BaseDirectory, "Fixtures", "resnet_tiny", variant);

    public static string File(string name, string variant = "basic") => Path.Combine(Dir(variant), name);

    /// <summary>torchvision's names, no config.json (read off the shapes).</summary>
    public static ModelFolder OpenTorchVision(string variant = "basic") =>
        ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = File("torchvision.safetensors", variant) });

    /// <summary>ResNetForImageClassification's names with its config.json.</summary>
    public static ModelFolder OpenHuggingFace(string variant = "basic") => ModelFolder.Open(new Dictionary<string, string>
    {
        ["model.safetensors"] = File("hugging_face.safetensors", variant),
        ["config.json"] = File("config.json", variant),
    });
}
