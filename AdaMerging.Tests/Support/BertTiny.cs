using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Tests.Support;

/// <summary>The committed tiny BERT-family encoders and WordPiece vocabulary made by tools/make_bert_fixture.py with real PyTorch.</summary>
public static class BertTiny
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "bert_tiny");

    public static string File(string variant, string name) => Path.Combine(Root, variant, name);

    /// <summary>The tokenizer's files as a checkpoint carries them (vocab.txt, tokenizer_config.json).</summary>
    public static Dictionary<string, string> TokenizerFiles() => new(StringComparer.Ordinal)
    {
        ["vocab.txt"] = Path.Combine(Root, "vocab.txt"),
        ["tokenizer_config.json"] = Path.Combine(Root, "tokenizer_config.json"),
    };

    /// <summary>A variant's weights with its config.json, and the tokenizer unless told otherwise.</summary>
    public static ModelFolder Open(string variant = "bert_classifier", bool withConfig = true, bool withTokenizer = true)
    {
        var files = withTokenizer ? TokenizerFiles() : new Dictionary<string, string>(StringComparer.Ordinal);
        files["model.safetensors"] = File(variant, "model.safetensors");
        if (withConfig) files["config.json"] = File(variant, "config.json");
        return ModelFolder.Open(files);
    }
}
