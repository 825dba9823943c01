using System.Globalization;
using System.Text.Json;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// Llama-shaped bfloat16 checkpoints as model hubs ship them (shards with model.safetensors.index.json, config.json,
/// generation_config.json, tokenizer_config.json): a random base and fine-tuned variants (base + small seeded
/// perturbations), written a tensor at a time so that no model is ever whole in memory. For the streamed merges'
/// memory and speed (issue 30; docs/performance.md, "Streamed merges").
/// </summary>
public static class LlamaCheckpoints
{
    /// <summary>Hidden, intermediate, layers, heads, key-value heads, vocabulary: Llama-3.2-1B's shape (1.24 B parameters) and smaller ones.</summary>
    public static readonly IReadOnlyDictionary<string, (int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, int Vocab)> Shapes =
        new Dictionary<string, (int, int, int, int, int, int)>(StringComparer.Ordinal)
        {
            ["1b"] = (2048, 8192, 16, 32, 8, 128256),
            ["300m"] = (1024, 4096, 16, 16, 8, 50000),
            ["tiny"] = (64, 256, 2, 4, 2, 1000),
        };

    public static int Write(BenchOptions options)
    {
        var directory = options.Required("out");
        var size = options.Get("size", "1b");
        int tasks = int.Parse(options.Get("tasks", "4"), CultureInfo.InvariantCulture);
        long shardBytes = long.Parse(options.Get("shard-mb", "1024"), CultureInfo.InvariantCulture) << 20;
        var shape = Shapes.TryGetValue(size, out var s) ? s : throw new ArgumentException($"--size is one of {string.Join(", ", Shapes.Keys)}");
        var layout = Layout(shape).ToList();
        for (int m = 0; m <= tasks; m++)
        {
            var folder = Path.Combine(directory, m == 0 ? "base" : $"task{m}");
            Directory.CreateDirectory(folder);
            using (var writer = new ShardedSafetensorsWriter(folder, [.. layout.Select(t => (t.Name, SafetensorsDType.BF16, (IReadOnlyList<long>)t.Shape))], shardBytes))
            {
                for (int i = 0; i < layout.Count; i++)
                {
                    using var scope = torch.NewDisposeScope();
                    writer.Write(layout[i].Name, Tensor(layout[i].Name, layout[i].Shape, i, m).to_type(torch.ScalarType.BFloat16));
                }
                writer.Commit();
            }
            WriteSideFiles(folder, shape);
            Console.WriteLine($"wrote {folder}");
        }
        Console.WriteLine($"{layout.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)):N0} parameters per model");
        return 0;
    }

    /// <summary>Tensor i of model m: the base's drawn from its own seed, a task's the base's plus its own perturbation.</summary>
    private static torch.Tensor Tensor(string name, long[] shape, int i, int m)
    {
        if (name.EndsWith("norm.weight", StringComparison.Ordinal))
            return m == 0 ? torch.ones(shape) : torch.ones(shape).Plus(torch.randn(shape, generator: new torch.Generator((ulong)(1_000_003 * m + i))).Times(0.01));
        var theta0 = torch.randn(shape, generator: new torch.Generator((ulong)i + 1)).Times(0.02);
        return m == 0 ? theta0 : theta0.Plus(torch.randn(shape, generator: new torch.Generator((ulong)(1_000_003 * m + i))).Times(0.002));
    }

    private static IEnumerable<(string Name, long[] Shape)> Layout((int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, int Vocab) s)
    {
        long h = s.Hidden, kv = s.Hidden / s.Heads * s.KvHeads;
        yield return ("model.embed_tokens.weight", [s.Vocab, h]);
        for (int l = 0; l < s.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            yield return (p + "input_layernorm.weight", [h]);
            yield return (p + "self_attn.q_proj.weight", [h, h]);
            yield return (p + "self_attn.k_proj.weight", [kv, h]);
            yield return (p + "self_attn.v_proj.weight", [kv, h]);
            yield return (p + "self_attn.o_proj.weight", [h, h]);
            yield return (p + "post_attention_layernorm.weight", [h]);
            yield return (p + "mlp.gate_proj.weight", [s.Intermediate, h]);
            yield return (p + "mlp.up_proj.weight", [s.Intermediate, h]);
            yield return (p + "mlp.down_proj.weight", [h, s.Intermediate]);
        }
        yield return ("model.norm.weight", [h]);
    }

    private static void WriteSideFiles(string folder, (int Hidden, int Intermediate, int Layers, int Heads, int KvHeads, int Vocab) s)
    {
        var config = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "LlamaForCausalLM" }, ["model_type"] = "llama", ["hidden_size"] = s.Hidden,
            ["intermediate_size"] = s.Intermediate, ["num_hidden_layers"] = s.Layers, ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads, ["vocab_size"] = s.Vocab, ["tie_word_embeddings"] = true, ["torch_dtype"] = "bfloat16",
            ["rms_norm_eps"] = 1e-5, ["max_position_embeddings"] = 131072,
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), JsonSerializer.Serialize(config));
        File.WriteAllText(Path.Combine(folder, "generation_config.json"), """{"bos_token_id": 128000, "eos_token_id": 128001, "do_sample": true}""");
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"model_max_length": 131072, "tokenizer_class": "PreTrainedTokenizerFast"}""");
    }
}
