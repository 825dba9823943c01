using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Tests.Support;

/// <summary>The tiny Llama-family decoders tools/make_llama_fixture.py writes, with what PyTorch computed for them.</summary>
public static class LlamaTiny
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama_tiny");

    public static string File(string variant, string name) => Path.Combine(Root, variant, name);

    /// <summary>A variant's weights, with its config.json unless told otherwise.</summary>
    public static ModelFolder Open(string variant, bool withConfig = true)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal) { ["model.safetensors"] = File(variant, "model.safetensors") };
        if (withConfig) files["config.json"] = File(variant, "config.json");
        return ModelFolder.Open(files);
    }
}
