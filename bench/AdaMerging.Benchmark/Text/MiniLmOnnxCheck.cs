using System.Reflection;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.Text;

/// <summary>
/// minilm-onnx-check --model DIR --onnx model.onnx: the converted all-MiniLM-L6-v2 (tools/convert_minilm_onnx.py)
/// through the service's tokenizer and model against ONNX Runtime running the package's own export on the same ids:
/// sentence-transformers' embedding, the last hidden state mean-pooled over the attention mask, of 16 sentences of
/// different lengths in one padded batch. Prints the largest difference relative to the largest value; fails above 1e-4.
/// </summary>
public static class MiniLmOnnxCheck
{
    public const double Tolerance = 1e-4;

    public static readonly string[] Sentences =
    [
        "A man is eating food.", "A man is riding a white horse on an enclosed ground.", "The new movie is awesome!",
        "Héllo wörld — naïve café.", "It was the best of times, it was the worst of times.", "Merge the models, then evaluate them.",
        "Free entry in a weekly competition to win FA Cup final tickets!", "Ok lar... Joking wif u oni...",
        "Emma Woodhouse, handsome, clever, and rich.", "It is a truth universally acknowledged.", "中文 and English",
        "Numbers 3.14159 and 2,718 and 42%.", "tab\tseparated\nand new lines", "Short.",
        "A much longer sentence that goes on and on about nothing in particular, just to have many more tokens than the others in the batch.",
        "🙂 emoji at the start",
    ];

    public static int Run(BenchOptions options)
    {
        var dir = options.Required("model");
        using var folder = ModelFolder.Open(Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), f => f));
        var spec = folder.Spec as BertSpec ?? throw new InvalidOperationException($"{dir} is not a BERT-family encoder the service recognises");
        if (spec.Pooling != BertPooling.Mean) throw new InvalidOperationException($"{dir} pools by {spec.Pooling}; sentence-transformers mean-pools");
        var tokenizer = WordPieceTokenizer.Open(folder.SideFiles);
        var ids = Sentences.Select(s => tokenizer.Encode(s, 128)).ToList();
        using var scope = NewDisposeScope();
        var tokens = TokenBatch.Pack(ids, tokenizer.PaddingId);
        var features = ModelParameters.Run(folder, CPU, (model, θ) => model.Features(θ, tokens));

        long b = tokens.shape[0], l = tokens.shape[2];
        var inputIds = tokens.select(1, 0).contiguous().data<long>().ToArray();
        var mask = tokens.select(1, 1).contiguous().data<long>().ToArray();
        using var session = new InferenceSession(options.Required("onnx"));
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(inputIds, [(int)b, (int)l])),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, [(int)b, (int)l])),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[b * l], [(int)b, (int)l])),
        };
        using var results = session.Run(inputs);
        var hidden = tensor(results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray()).reshape(b, l, -1);
        var m = tensor(mask).reshape(b, l, 1).to_type(ScalarType.Float32);
        var reference = (hidden * m).sum(1) / m.sum(1);
        double difference = ReferenceDifference.Relative(reference, features);
        Console.WriteLine($"all-MiniLM-L6-v2 ({spec.Describe()}) against ONNX Runtime {OrtEnv.Instance().GetVersionString()} on {b} sentences "
            + $"({ids.Min(i => i.Length)}-{ids.Max(i => i.Length)} tokens, one padded batch): largest difference {difference:E2} of the largest value "
            + $"({reference.abs().max().item<float>():F3}); tolerance {Tolerance:E0}");
        return difference <= Tolerance ? 0 : 1;
    }

    /// <summary>extract-resources --assembly F --out DIR --resources NAME=FILE,…: an assembly's manifest resources as files (read, never run).</summary>
    public static int Extract(BenchOptions options)
    {
        var assembly = Assembly.LoadFile(Path.GetFullPath(options.Required("assembly")));
        var outDir = options.Required("out");
        Directory.CreateDirectory(outDir);
        foreach (var pair in options.Required("resources").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (name, file) = pair.Split('=') is [var n, var f] ? (n, f) : throw new ArgumentException($"--resources takes NAME=FILE pairs, not '{pair}'");
            using var stream = assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"no resource '{name}'; it has {string.Join(", ", assembly.GetManifestResourceNames())}");
            using var target = File.Create(Path.Combine(outDir, file));
            stream.CopyTo(target);
            Console.WriteLine($"{name} → {Path.Combine(outDir, file)} ({target.Length} bytes)");
        }
        return 0;
    }
}
