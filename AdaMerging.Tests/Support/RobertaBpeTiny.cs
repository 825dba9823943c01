using System.Text.Json.Nodes;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The tiny RoBERTa classifier (tools/make_bert_fixture.py) with a word embedding for each of the tiny byte-level BPE
/// vocabulary's 284 tokens (tools/make_gpt2_fixture.py's roberta/), so RoBERTa runs on text tokenised as RoBERTa does
/// through the whole service. Its 83 reference rows are kept; the rest are drawn with a fixed seed. Written once per
/// test process into the test output (the same bytes each time).
/// </summary>
public static class RobertaBpeTiny
{
    public const int VocabSize = 284;

    private static readonly Lazy<string> Folder = new(Write);

    public static string File(string name) => Path.Combine(Folder.Value, name);

    private static string Write()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "generated", "roberta_bpe");
        Directory.CreateDirectory(folder);
        using var source = SafetensorsFile.Open(BertTiny.File("roberta_classifier", "model.safetensors"));
        var tensors = source.Tensors.ToDictionary(t => t.Name, t => source.Read(t.Name));
        const string words = "roberta.embeddings.word_embeddings.weight";
        var extra = torch.randn([VocabSize - tensors[words].shape[0], tensors[words].shape[1]], generator: new torch.Generator(31)).Times(0.02);
        tensors[words] = torch.cat([tensors[words], extra]);
        TestCheckpoints.Save(Path.Combine(folder, "model.safetensors"), tensors);
        var config = JsonNode.Parse(System.IO.File.ReadAllText(BertTiny.File("roberta_classifier", "config.json")))!;
        config["vocab_size"] = VocabSize;
        System.IO.File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        foreach (var (name, path) in Gpt2Tiny.TokenizerFiles(roberta: true)) System.IO.File.Copy(path, Path.Combine(folder, name), overwrite: true);
        return folder;
    }
}
