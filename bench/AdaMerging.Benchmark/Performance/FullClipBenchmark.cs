using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// `sample-full-clip` and `full-clip` (bench/full-clip.sh): a ViT-B/32-shaped full CLIP (random weights: vision and
/// text towers, projections, logit_scale, about 151 M parameters) with K vision-only task checkpoints, as FusionBench
/// publishes them, through a running service: upload, one zero-shot head per task from class names with the official
/// templates, task arithmetic and layer-wise AdaMerging; the time of each step and phase and the processes' peak memory.
/// </summary>
public static class FullClipBenchmark
{
    private const int Vision = 768, VisionLayers = 12, Text = 512, TextLayers = 12, Projection = 512, Vocabulary = 49408, Context = 77;
    private static readonly string[] TemplateSets = ["SUN397", "Cars", "RESISC45", "EuroSAT", "SVHN", "GTSRB", "MNIST", "DTD"];

    public static int Sample(BenchOptions options)
    {
        var directory = options.Required("out");
        var tokenizer = options.Required("tokenizer");
        int tasks = options.WholeNumber("tasks", 8), images = options.WholeNumber("images", 32);
        var g = new torch.Generator(1);
        var baseDir = Directory.CreateDirectory(Path.Combine(directory, "base")).FullName;
        var theta0 = Tensors(g);
        SafetensorsWriter.Save(Path.Combine(baseDir, "model.safetensors"), theta0);
        File.WriteAllText(Path.Combine(baseDir, "config.json"), Config());
        foreach (var file in new[] { "vocab.json", "merges.txt" }) File.Copy(Path.Combine(tokenizer, file), Path.Combine(baseDir, file), overwrite: true);
        for (int k = 0; k < tasks; k++)
        {
            using var scope = torch.NewDisposeScope();
            var task = theta0.Where(t => t.Key.StartsWith("vision_model.", StringComparison.Ordinal))
                .ToDictionary(t => t.Key, t => t.Value.is_floating_point() ? t.Value.Plus(torch.randn(t.Value.shape, generator: g).Times(0.002)) : t.Value);
            SafetensorsWriter.Save(Path.Combine(Directory.CreateDirectory(Path.Combine(directory, $"task{k}")).FullName, "model.safetensors"), task);
            SafetensorsWriter.Save(Path.Combine(directory, $"data{k}.safetensors"), new Dictionary<string, torch.Tensor>
            {
                ["pixel_values"] = torch.randint(0, 256, [images, 3, 224, 224], torch.ScalarType.Byte, generator: g),
                ["labels"] = torch.randint(0, 10, [images], torch.ScalarType.Int64, generator: g),
            });
        }
        Console.WriteLine($"{theta0.Values.Sum(t => t.numel()) / 1e6:F1} M parameters in the base; {tasks} vision-only tasks in {directory}");
        return 0;
    }

    public static async Task<int> Run(BenchOptions options)
    {
        var directory = options.Required("dir");
        int tasks = options.WholeNumber("tasks", 8);
        using var client = ServiceClient.Create(options.Required("url"), options.Required("key"));
        var pids = (Api: options.WholeNumber("api-pid", 0), Worker: options.WholeNumber("worker-pid", 0));
        var clock = Stopwatch.StartNew();
        var baseId = await client.UploadCheckpointAsync(Path.Combine(directory, "base"), "clip-b32-full", "model.safetensors", "config.json", "vocab.json", "merges.txt");
        var taskJson = new JsonArray();
        var upload = clock.Elapsed.TotalSeconds;
        var headSeconds = new List<double>();
        for (int k = 0; k < tasks; k++)
        {
            var checkpoint = await client.UploadCheckpointAsync(Path.Combine(directory, $"task{k}"), $"task{k}", "model.safetensors");
            var data = await client.UploadFileAsync("datasets", Path.Combine(directory, $"data{k}.safetensors"), $"data{k}");
            var started = clock.Elapsed.TotalSeconds;
            var head = await client.BuildHeadAsync(new JsonObject
            {
                ["checkpoint"] = baseId, ["templateSet"] = TemplateSets[k % TemplateSets.Length],
                ["classNames"] = new JsonArray([.. Enumerable.Range(0, 10).Select(c => (JsonNode)$"class {c}")]),
            });
            headSeconds.Add(clock.Elapsed.TotalSeconds - started);
            taskJson.Add(new JsonObject { ["name"] = $"task{k}", ["checkpoint"] = checkpoint, ["head"] = head, ["adaptationData"] = data, ["evaluationData"] = data });
        }
        upload = clock.Elapsed.TotalSeconds - headSeconds.Sum();
        Console.WriteLine($"upload: base + {tasks} tasks + {tasks} datasets {upload:F1} s; zero-shot heads (10 classes each, official templates): "
            + $"{headSeconds.Sum():F1} s in all, {string.Join(" / ", headSeconds.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))} s; API peak RSS {PeakGb(pids.Api)}");
        foreach (var (method, merge) in new[] { ("task_arithmetic", new JsonObject()), ("adamerging", new JsonObject { ["steps"] = 2, ["batchSize"] = 16 }) })
        {
            var started = clock.Elapsed.TotalSeconds;
            var id = await client.SubmitAsync(new JsonObject { ["method"] = method, ["base"] = baseId, ["tasks"] = taskJson.DeepClone(), ["options"] = merge });
            JsonObject state;
            while ((state = await client.MergeAsync(id))["status"]?.GetValue<string>() is "queued" or "running") await Task.Delay(500);
            if (state["status"]?.GetValue<string>() != "succeeded") throw new InvalidOperationException($"{method}: {state}");
            var report = await client.ReportAsync(id);
            var phases = report["phaseSeconds"]?.AsObject().Select(p => $"{p.Key} {p.Value!.GetValue<double>():F1} s") ?? [];
            Console.WriteLine($"{method}: {clock.Elapsed.TotalSeconds - started:F1} s submit → succeeded; phases: {string.Join(", ", phases)}; "
                + $"merged {report["mergedTensors"]} / carried {report["carriedTensors"]} tensors; worker peak RSS so far {PeakGb(pids.Worker)}");
        }
        return 0;
    }

    private static string PeakGb(int pid) => pid <= 0 ? "n/a"
        : File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal)).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)[1] is var kb
            ? $"{long.Parse(kb, CultureInfo.InvariantCulture) / 1e6:F2} GB" : "n/a";

    private static Dictionary<string, torch.Tensor> Tensors(torch.Generator g)
    {
        var t = new Dictionary<string, torch.Tensor>(StringComparer.Ordinal);
        void Add(string name, long[] shape) => t[name] = name.Contains("norm", StringComparison.Ordinal) && name.EndsWith("weight", StringComparison.Ordinal)
            ? torch.ones(shape) : torch.randn(shape, generator: g).Times(0.02);
        void Tower(string p, int d, int layers)
        {
            for (int l = 0; l < layers; l++)
            {
                var q = $"{p}encoder.layers.{l}.";
                foreach (var proj in new[] { "q_proj", "k_proj", "v_proj", "out_proj" }) { Add(q + $"self_attn.{proj}.weight", [d, d]); Add(q + $"self_attn.{proj}.bias", [d]); }
                foreach (var n in new[] { "layer_norm1", "layer_norm2" }) { Add(q + $"{n}.weight", [d]); Add(q + $"{n}.bias", [d]); }
                Add(q + "mlp.fc1.weight", [4 * d, d]); Add(q + "mlp.fc1.bias", [4 * d]); Add(q + "mlp.fc2.weight", [d, 4 * d]); Add(q + "mlp.fc2.bias", [d]);
            }
        }
        Add("vision_model.embeddings.class_embedding", [Vision]);
        Add("vision_model.embeddings.patch_embedding.weight", [Vision, 3, 32, 32]);
        Add("vision_model.embeddings.position_embedding.weight", [50, Vision]);
        Add("vision_model.pre_layrnorm.weight", [Vision]); Add("vision_model.pre_layrnorm.bias", [Vision]);
        Tower("vision_model.", Vision, VisionLayers);
        Add("vision_model.post_layernorm.weight", [Vision]); Add("vision_model.post_layernorm.bias", [Vision]);
        Add("visual_projection.weight", [Projection, Vision]);
        Add("text_model.embeddings.token_embedding.weight", [Vocabulary, Text]);
        Add("text_model.embeddings.position_embedding.weight", [Context, Text]);
        Tower("text_model.", Text, TextLayers);
        Add("text_model.final_layer_norm.weight", [Text]); Add("text_model.final_layer_norm.bias", [Text]);
        Add("text_projection.weight", [Projection, Text]);
        t["logit_scale"] = torch.tensor(MathF.Log(100f));
        return t;
    }

    private static string Config() => new JsonObject
    {
        ["architectures"] = new JsonArray("CLIPModel"), ["model_type"] = "clip", ["projection_dim"] = Projection,
        ["text_config"] = new JsonObject { ["hidden_size"] = Text, ["intermediate_size"] = 4 * Text, ["num_hidden_layers"] = TextLayers, ["num_attention_heads"] = 8,
            ["vocab_size"] = Vocabulary, ["max_position_embeddings"] = Context },
        ["vision_config"] = new JsonObject { ["hidden_size"] = Vision, ["intermediate_size"] = 4 * Vision, ["num_hidden_layers"] = VisionLayers, ["num_attention_heads"] = 12,
            ["image_size"] = 224, ["patch_size"] = 32, ["projection_dim"] = Projection },
    }.ToJsonString();
}
