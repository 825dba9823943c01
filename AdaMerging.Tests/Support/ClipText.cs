using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The committed tiny full CLIP made by tools/make_text_fixture.py with real PyTorch: the clip_tiny vision tower, a
/// random text tower, a BPE vocabulary learned by the tool (Hugging Face and open_clip files), and the reference's
/// token ids, text embeddings and zero-shot heads.
/// </summary>
public static class ClipText
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "clip_text");

    public static string File(string name) => Path.Combine(Dir, name);

    public static Dictionary<string, string> HuggingFaceFiles() => new()
    {
        ["model.safetensors"] = File("model.safetensors"),
        ["config.json"] = File("config.json"),
        ["vocab.json"] = File("vocab.json"),
        ["merges.txt"] = File("merges.txt"),
    };

    public static Dictionary<string, string> OpenClipFiles() => new()
    {
        ["open_clip.safetensors"] = File("open_clip.safetensors"),
        ["bpe_simple_vocab_16e6.txt.gz"] = File("bpe_simple_vocab_16e6.txt.gz"),
    };

    public static ModelFolder OpenHuggingFace() => ModelFolder.Open(HuggingFaceFiles());

    public static ModelFolder OpenOpenClip() => ModelFolder.Open(OpenClipFiles());

    public static JsonElement Reference() => JsonDocument.Parse(System.IO.File.ReadAllText(File("reference.json"))).RootElement;

    public static SafetensorsFile ReferenceTensors() => SafetensorsFile.Open(File("reference.safetensors"));

    /// <summary>The reference's texts with their ids (null where the text is over the context).</summary>
    public static IReadOnlyList<(string Text, int[]? Ids)> Texts() =>
        Reference().GetProperty("texts").EnumerateArray()
            .Select(t => (t.GetProperty("text").GetString()!, t.GetProperty("ids").ValueKind == JsonValueKind.Null ? null
                : t.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray()))
            .ToList();
}
