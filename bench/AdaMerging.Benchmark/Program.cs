using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Globalization;
using AdaMerging.Benchmark;
using AdaMerging.Benchmark.Performance;

// build [--seed N] [--name value …]: builds (or finds cached) the benchmark folder and prints its path last.
// run --url URL --key KEY --benchmark DIR [--tasks a,b,…] [--steps N] [--out FILE] [--suite vit|resnet|text]
//     [--batch-norm-statistics merge|recompute|auto] [--max-sequence-length N]: every method through the service.
// The performance harness (docs/performance.md):
//   bench-step [--sizes tiny,small,vit-b-32] [--precision float32,bfloat16] [--tasks 8] [--batch 16] [--steps N] [--objective entropy|expert_kl]
//   bench-step --memory-steps 500 [--memory-size small]      RSS and live tensors every 50 steps
//   bench-estimate [--tasks 4] [--batch 4] [--tokens 256] [--memory-gb 24]   AdaMerging's estimated peak on published Llama shapes
//   bench-memory [--size vit-b-32] [--precision float32] [--modes whole-graph,task-by-task,checkpointed] [--steps 2] [--allocator worker|glibc] [--objective entropy|expert_kl]
//                                                              setup and peak RSS per way of taking the gradient
//   bench-merge [--tasks 4]                                    task arithmetic, TIES, DARE on a ViT-L/14 shape
//   bench-store [--dir DIR]                                    header reads and loads of ViT-B/32 and ViT-L/14 checkpoints
//   llama-checkpoints --out DIR [--size 1b|300m|tiny] [--tasks 4] [--shard-mb 1024]   Llama-shaped bf16 shards: base/, task1/…
//   make-checkpoint --out F [--gb 2]                           a large safetensors file for upload benchmarks
//   resnet-onnx-check --model DIR --onnx F [--images 16]      the converted ImageNet ResNet-18 against ONNX Runtime
//   minilm-onnx-check --model DIR --onnx F                   the converted all-MiniLM-L6-v2 against ONNX Runtime
//   extract-resources --assembly F --out DIR --resources NAME=FILE,…   an assembly's embedded resources as files
//   resnet-build [--seed N] [--size 64] [--model data/resnet18/model]   the ResNet-18 benchmark (docs/reproduction.md)
//   text-build [--seed N] [--max-tokens 64] [--model data/minilm/model]   the MiniLM text benchmark (docs/reproduction.md)
//   sample --out DIR [--tasks 3] [--seed 1] [--width 64] [--layers 2]   random CLIP-ViT base and fine-tuned checkpoints
AdaMerging.Domain.Compute.HostMemory.Use(AdaMerging.Domain.Diagnostics.ProcessMemory.Glibc);
var verb = args.FirstOrDefault() ?? "help";
var options = BenchOptions.Parse(args.Skip(1));
switch (verb)
{
    case "build":
        var settings = new BenchmarkSettings
        {
            Seed = options.WholeNumber("seed", 1),
            Tasks = options.Get("tasks", ""),
            Width = options.WholeNumber("width", 128),
            Layers = options.WholeNumber("layers", 6),
            GlyphImages = options.WholeNumber("glyphs", 60_000),
            PretrainSteps = options.WholeNumber("pretrain-steps", 1500),
            PrototypesPerClass = options.WholeNumber("prototypes", 64),
            FineTuneSteps = options.WholeNumber("finetune-steps", 200),
            FineTuneLearningRate = options.Real("finetune-lr", 3e-5),
            TestImagesPerTask = options.WholeNumber("test-images", 1000),
        };
        TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine(new BenchmarkBuilder(settings, options.Get("raw", "data/benchmark/raw"), options.Get("out", "data/benchmark")).Build());
        return 0;
    case "run":
        return await RunThroughService(options);
    case "bench-step":
        return StepBenchmark.Run(options);
    case "bench-memory":
        return MemoryBenchmark.Run(options);
    case "bench-estimate":
        return EstimateBenchmark.Run(options);
    case "bench-merge":
        return MergeBenchmark.Run(options);
    case "bench-store":
        return StoreBenchmark.Run(options);
    case "make-checkpoint":
        return StoreBenchmark.MakeCheckpoint(options);
    case "sample":
        return SampleCheckpoints.Write(options);
    case "bench-stored-sum":
        return StoredSumBenchmark.Run(options);
    case "llama-checkpoints":
        return LlamaCheckpoints.Write(options);
    case "resnet-build":
        TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine(new AdaMerging.Benchmark.ResNet.ResNetBenchmarkBuilder(new AdaMerging.Benchmark.ResNet.ResNetBenchmarkSettings
        {
            Seed = options.WholeNumber("seed", 1),
            Tasks = options.Get("tasks", ""),
            ImageSize = options.WholeNumber("size", 64),
            TrainImagesPerTask = options.WholeNumber("train-images", 4000),
            TestImagesPerTask = options.WholeNumber("test-images", 500),
            FineTuneSteps = options.WholeNumber("finetune-steps", 200),
            FineTuneLearningRate = options.Real("finetune-lr", 1e-4),
            TrainingModeBatchNorm = options.Get("batch-norm", "frozen") switch
            {
                "frozen" => false,
                "train" => true,
                var other => throw new ArgumentException($"--batch-norm is frozen or train, not {other}"),
            },
        }, options.Get("model", "data/resnet18/model"), options.Get("raw", "data/benchmark/raw"), options.Get("out", "data/resnet-benchmark")).Build());
        return 0;
    case "text-build":
        TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine(new AdaMerging.Benchmark.Text.TextBenchmarkBuilder(new AdaMerging.Benchmark.Text.TextBenchmarkSettings
        {
            Seed = options.WholeNumber("seed", 1),
            Tasks = options.Get("tasks", ""),
            TrainTextsPerTask = options.WholeNumber("train-texts", 2000),
            ProbeTextsPerTask = options.WholeNumber("probe-texts", 500),
            TestTextsPerTask = options.WholeNumber("test-texts", 500),
            MaxTokens = options.WholeNumber("max-tokens", 64),
            FineTuneSteps = options.WholeNumber("finetune-steps", 150),
            FineTuneLearningRate = options.Real("finetune-lr", 5e-5),
        }, options.Get("model", "data/minilm/model"), options.Get("raw", "data/text/raw"), options.Get("out", "data/text-benchmark")).Build());
        return 0;
    case "resnet-onnx-check":
        return AdaMerging.Benchmark.ResNet.OnnxCheck.Run(options);
    case "minilm-onnx-check":
        return AdaMerging.Benchmark.Text.MiniLmOnnxCheck.Run(options);
    case "extract-resources":
        return AdaMerging.Benchmark.Text.MiniLmOnnxCheck.Extract(options);
    case "sample-full-clip":
        return FullClipBenchmark.Sample(options);
    case "full-clip":
        return await FullClipBenchmark.Run(options);
    default:
        Console.Error.WriteLine("usage: AdaMerging.Benchmark build [--seed N] … | run --url URL --key KEY --benchmark DIR | bench-step | bench-memory | bench-merge | bench-store | make-checkpoint | sample | sample-full-clip | full-clip");
        return 2;
}

static async Task<int> RunThroughService(BenchOptions options)
{
    var benchmark = options.Required("benchmark");
    // Every benchmark's build.json (glyph ViT, ResNet-18, MiniLM text) lists its tasks by name.
    var build = JsonNode.Parse(File.ReadAllText(Path.Combine(benchmark, "build.json")))!;
    var all = build["tasks"]!.AsArray().Select(t => t!["task"]!.GetValue<string>()).ToList();
    var tasks = options.Get("tasks", string.Join(",", all)).Split(',', StringSplitOptions.RemoveEmptyEntries);
    var common = new JsonObject();
    if (options.Get("steps", "") is { Length: > 0 } steps) common["steps"] = int.Parse(steps, CultureInfo.InvariantCulture);
    if (options.Get("merge-seed", "") is { Length: > 0 } seed) common["seed"] = long.Parse(seed, CultureInfo.InvariantCulture);
    if (options.Get("batch-norm-statistics", "") is { Length: > 0 } statistics) common["batchNormStatistics"] = statistics;
    if (options.Get("max-sequence-length", "") is { Length: > 0 } tokens) common["maxSequenceLength"] = int.Parse(tokens, CultureInfo.InvariantCulture);
    var methods = options.Get("suite", "vit") switch
    {
        "resnet" => BenchmarkMethods.ResNetMethods(common),
        "text" => BenchmarkMethods.TextMethods(common),
        _ => BenchmarkMethods.AllMethods(common),
    };
    if (options.Get("methods", "") is { Length: > 0 } only) methods = methods.Where(m => only.Split(',').Contains(m.Label)).ToList();
    using var client = ServiceClient.Create(options.Required("url"), options.Required("key"));
    var run = new ServiceBenchmark(client, benchmark, Console.Out);
    var uploaded = await run.UploadAsync(tasks);
    var results = await run.RunAsync(uploaded, methods);
    var table = ServiceBenchmark.Table(tasks, results);
    var text = new StringBuilder(table);
    if (options.Get("held-out", "") is { Length: > 0 } heldOutList)
    {
        var heldOut = heldOutList.Split(',');
        var seen = uploaded with { Tasks = uploaded.Tasks.Where(t => !heldOut.Contains(t.Name)).ToList() };
        var generalisation = methods.Where(m => m.Label is "task arithmetic" or "layer-wise AdaMerging" or "layer-wise AdaMerging++").ToList();
        text.AppendLine().AppendLine("Generalisation (λ learned without the unseen tasks):").AppendLine()
            .Append(await run.GeneralisationAsync(seen, heldOut, generalisation));
    }
    Console.WriteLine();
    Console.WriteLine(text);
    if (options.Get("out", "") is { Length: > 0 } outFile)
    {
        File.WriteAllText(outFile, text.ToString());
        File.WriteAllText(Path.ChangeExtension(outFile, ".json"), JsonSerializer.Serialize(
            results.Select(r => new { method = r.Run.Label, id = r.Id, report = r.Report }), Json.Indented));
    }
    foreach (var (method, id, _) in results)
        Console.WriteLine($"{method.Label}: merge /merges/{id}, model /merges/{id}/model, report and plots /merges/{id}/archive");
    return 0;
}
