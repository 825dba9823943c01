using System.Globalization;
using AdaMerging.Domain.Architectures.Llama;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// `bench-estimate`: the pre-flight estimate of an AdaMerging step on language models of published Llama shapes (no
/// tensor is made), for K tasks, a batch per task and a sequence length, in float32 and bfloat16, with and without
/// checkpointing, under each objective; and which fit a memory (docs/performance.md, "Language models"). The estimate is
/// the service's own (<see cref="MemoryEstimate.AdaMergingSteps"/>), checked against measured peaks by bench-memory.
/// </summary>
public static class EstimateBenchmark
{
    /// <summary>Llama 2/3's published shapes, as config.json gives them (the 125M shape is the benchmarks').</summary>
    private static readonly (string Name, LlamaConfig Config)[] Shapes =
    [
        ("llama-125m (benchmarks')", new LlamaConfig("llama", 32000, 768, 2048, 12, 12, 4, 64)),
        ("Llama 3.2 1B", new LlamaConfig("llama", 128256, 2048, 8192, 16, 32, 8, 64, TieWordEmbeddings: true)),
        ("Llama 3.2 3B", new LlamaConfig("llama", 128256, 3072, 8192, 28, 24, 8, 128, TieWordEmbeddings: true)),
        ("Llama 2 7B", new LlamaConfig("llama", 32000, 4096, 11008, 32, 32, 32, 128)),
        ("Llama 3.1 8B", new LlamaConfig("llama", 128256, 4096, 14336, 32, 32, 8, 128)),
    ];

    public static int Run(BenchOptions options)
    {
        int k = options.WholeNumber("tasks", 4), batch = options.WholeNumber("batch", 4), tokens = options.WholeNumber("tokens", 256);
        double limit = options.Real("memory-gb", 24);
        Console.WriteLine(FormattableString.Invariant($"AdaMerging step's estimated peak, K = {k}, batch {batch} × {tokens} tokens per task; GB (fits {limit} GB: *)"));
        Console.WriteLine("| model | parameters | float32 | float32, checkpointed | bf16, checkpointed | bf16, checkpointed, expert_kl | bf16, checkpointed, LoRA r16 tasks (q, k, v, o) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, config) in Shapes)
        {
            var names = new LlamaNames("model.");
            long parameters = names.Expected(config).Sum(e => e.Shape.Aggregate(1L, (a, b) => a * b))
                + (config.TieWordEmbeddings ? 0 : (long)config.VocabSize * config.HiddenSize);
            var memory = LlamaMemory.Of(config, tokens) with { TokenScores = (long)tokens * config.VocabSize };
            // LoRA adapters kept factored (docs/algorithm.md, "AdaMerging over LoRA adapters"): rank × (in + out) per adapted matrix.
            long q = (long)config.NumHeads * config.HeadDim, kv = (long)config.NumKeyValueHeads * config.HeadDim, h = config.HiddenSize;
            long lora = (long)k * config.NumLayers * 16 * ((h + q) + 2 * (h + kv) + (q + h));
            string Cell(ScalarType storage, bool checkpointing, bool expertKl, long? vectors = null)
            {
                double gb = MemoryEstimate.AdaMergingSteps(memory, parameters, k, batch, storage, checkpointing, vectorElements: vectors,
                    tokenScores: memory.TokenScores, expertKl: expertKl).Total / 1e9;
                return string.Create(CultureInfo.InvariantCulture, $"{gb:F1}{(gb <= limit ? " *" : "")}");
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {parameters / 1e9:F2} B | {Cell(ScalarType.Float32, false, false)} | {Cell(ScalarType.Float32, true, false)} | {Cell(ScalarType.BFloat16, true, false)} | {Cell(ScalarType.BFloat16, true, true)} | {Cell(ScalarType.BFloat16, true, false, lora)} |"));
        }
        return 0;
    }
}
