using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Tests.Support;

/// <summary>The committed tiny GPT-2 decoders and byte-level BPE vocabularies made by tools/make_gpt2_fixture.py with real PyTorch.</summary>
public static class Gpt2Tiny
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2_tiny");

    public static string File(string variant, string name) => Path.Combine(Root, variant, name);

    /// <summary>The BPE files as a checkpoint carries them: GPT-2's, or RoBERTa's (specials first) from roberta/.</summary>
    public static Dictionary<string, string> TokenizerFiles(bool roberta = false) => new(StringComparer.Ordinal)
    {
        ["vocab.json"] = Path.Combine(Root, roberta ? "roberta" : "", "vocab.json"),
        ["merges.txt"] = Path.Combine(Root, roberta ? "roberta" : "", "merges.txt"),
    };

    /// <summary>A variant's weights with its config.json, and the tokenizer unless told otherwise.</summary>
    public static ModelFolder Open(string variant = "gpt2_classifier", bool withConfig = true, bool withTokenizer = true)
    {
        var files = withTokenizer ? TokenizerFiles() : new Dictionary<string, string>(StringComparer.Ordinal);
        files["model.safetensors"] = File(variant, "model.safetensors");
        if (withConfig) files["config.json"] = File(variant, "config.json");
        return ModelFolder.Open(files);
    }
}
