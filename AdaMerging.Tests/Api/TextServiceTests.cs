using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Architectures.Bert;
using AdaMerging.Domain.Architectures.Gpt2;
using AdaMerging.Domain.Architectures.Llama;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Api;

/// <summary>
/// BERT, RoBERTa and GPT-2 classifiers through the API and the worker (the tiny fixtures with their WordPiece and byte-level BPE vocabularies): text datasets
/// uploaded as JSON Lines and CSV, each task's own classifier as its head, every method, and the refusals a text
/// model brings (another modality, more tokens than its positions, an over-long text) with nothing stored.
/// </summary>
public sealed class TextServiceTests(ServiceFixture service) : IClassFixture<ServiceFixture>, IDisposable
{
    private const int Classes = 4;
    private static readonly string[] Words = ["hello", "world", "the", "cafe", "unicode", "merge", "model", "run", "naive", "don"];
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    /// <summary>A text family's fixture as the service gets it: the classifier's weights, the files beside them, the classifier's tensors.</summary>
    public sealed record Family(string Architecture, string Layout, string Weights, (string Name, string Path)[] SideFiles,
        string Classifier, string? ClassifierBias, string CoefficientRow, string TokenizerFile, string Prefix)
    {
        public override string ToString() => Layout;
    }

    private static readonly Family Bert = new("bert", BertArchitecture.HuggingFaceBert, BertTiny.File("bert_classifier", "model.safetensors"),
        [("config.json", BertTiny.File("bert_classifier", "config.json")), ("vocab.txt", Path.Combine(BertTiny.Root, "vocab.txt")),
         ("tokenizer_config.json", Path.Combine(BertTiny.Root, "tokenizer_config.json"))],
        "classifier.weight", "classifier.bias", "bert.encoder.layer.1.attention.self.query.weight", "vocab.txt", "bert.");

    private static readonly Family Gpt2 = new("gpt2", Gpt2Architecture.HuggingFaceGpt2, Gpt2Tiny.File("gpt2_classifier", "model.safetensors"),
        [("config.json", Gpt2Tiny.File("gpt2_classifier", "config.json")), .. Gpt2Tiny.TokenizerFiles().Select(f => (f.Key, f.Value))],
        "score.weight", null, "transformer.h.1.attn.c_attn.weight", "merges.txt", "transformer.");

    private static readonly Family Roberta = new("bert", BertArchitecture.HuggingFaceRoberta, RobertaBpeTiny.File("model.safetensors"),
        [.. new[] { "config.json", "vocab.json", "merges.txt" }.Select(f => (f, RobertaBpeTiny.File(f)))],
        "classifier.out_proj.weight", "classifier.out_proj.bias", "roberta.encoder.layer.1.attention.self.query.weight", "merges.txt", "roberta.");

    private static readonly Family Llama = new("llama", LlamaArchitecture.HuggingFaceLlama, LlamaTiny.File("llama_classifier", "model.safetensors"),
        [("config.json", LlamaTiny.File("llama_classifier", "config.json")), ("tokenizer.json", LlamaTiny.File("llama3_causal_lm", "tokenizer.json"))],
        "score.weight", null, "model.layers.1.self_attn.q_proj.weight", "tokenizer.json", "model.");

    public static TheoryData<Family> Families => [Bert, Roberta, Gpt2, Llama];

    [Theory]
    [MemberData(nameof(Families))]
    public async Task Every_method_merges_a_text_model_evaluates_each_task_with_its_classifier_and_carries_the_base_s_and_its_tokenizer(Family family)
    {
        var (baseId, tasks, baseTensors) = await UploadAsync(family);
        var checkpoint = await service.Client.GetFromJsonAsync<JsonElement>($"/checkpoints/{baseId}");
        Assert.Equal((family.Architecture, family.Layout, 32), (checkpoint.GetProperty("architecture").GetString(),
            checkpoint.GetProperty("layout").GetString(), checkpoint.GetProperty("featureSize").GetInt32()));

        JsonElement merge = default;
        foreach (var method in MergeMethods.All)
        {
            object options = method.Name == "adamerging" ? new { granularity = "layer", steps = 3, batchSize = 4, maxSequenceLength = 12 } : QuickOptions.For(method);
            merge = await MergeAsync(method.Name, baseId, tasks, options);
            var report = await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString());
            var accuracy = report.GetProperty("accuracy").EnumerateArray().ToList();
            Assert.Equal(["spam", "names"], accuracy.Select(a => a.GetProperty("task").GetString()));
            Assert.All(accuracy, a => Assert.InRange(a.GetProperty("merged").GetDouble(), 0, 1));
            var merged = await TinyService.DownloadModelAsync(service, _files, merge);
            Assert.Equal(baseTensors.Keys.Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
            Assert.True(baseTensors[family.Classifier].equal(merged[family.Classifier]).all().item<bool>(), $"{method.Name}: the base's classifier is carried");
            if (method.Name == "adamerging")
            {
                var rows = report.GetProperty("coefficients").EnumerateArray().Select(c => c.GetProperty("layer").GetString()).ToList();
                Assert.Contains(family.CoefficientRow, rows);
                Assert.DoesNotContain(family.Classifier, rows);
            }
        }
        var vocabulary = await service.Client.GetByteArrayAsync($"/merges/{merge.GetProperty("id").GetString()}/files/{family.TokenizerFile}");
        Assert.Equal(await File.ReadAllBytesAsync(family.SideFiles.Single(f => f.Name == family.TokenizerFile).Path), vocabulary);
    }

    /// <summary>FusionBench's GPT-2 pool: a bare GPT2Model base, tasks saved as GPT2ForSequenceClassification (docs/algorithm.md, "Names across checkpoints").</summary>
    [Theory]
    [MemberData(nameof(Families))]
    public async Task A_bare_base_with_tasks_saved_with_their_heads_merges_as_the_base_saved_with_a_head_does(Family family)
    {
        var (withHead, tasks, baseTensors) = await UploadAsync(family);
        TestCheckpoints.Save(_files.File("bare.safetensors"), baseTensors.Where(kv => kv.Key.StartsWith(family.Prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[family.Prefix.Length..], kv => kv.Value));
        var bare = await TinyService.PostAsync(service, "/checkpoints", [("model.safetensors", await File.ReadAllBytesAsync(_files.File("bare.safetensors"))),
            .. await Task.WhenAll(family.SideFiles.Select(async f => (f.Name, await File.ReadAllBytesAsync(f.Path))))]);
        foreach (var (method, options) in new (string, object)[] { ("task_arithmetic", new { }), ("adamerging", new { granularity = "layer", steps = 2, batchSize = 4 }) })
        {
            var (expected, expectedModel) = await ReportAndModelAsync(await MergeAsync(method, withHead, tasks, options));
            var (actual, actualModel) = await ReportAndModelAsync(await MergeAsync(method, bare, tasks, options));
            Assert.Equal(Accuracies(expected), Accuracies(actual));
            Assert.Equal(expectedModel.Keys.Where(n => n.StartsWith(family.Prefix, StringComparison.Ordinal)).Select(n => n[family.Prefix.Length..]).Order(StringComparer.Ordinal),
                actualModel.Keys.Order(StringComparer.Ordinal));
            foreach (var (name, tensor) in actualModel)
                TinyService.AssertClose(expectedModel[family.Prefix + name], tensor, $"{method}: {name}");
        }
    }

    private static List<(string?, double)> Accuracies(JsonElement report) =>
        [.. report.GetProperty("accuracy").EnumerateArray().Select(a => (a.GetProperty("task").GetString(), Math.Round(a.GetProperty("merged").GetDouble(), 6)))];

    private async Task<(JsonElement Report, Dictionary<string, torch.Tensor> Model)> ReportAndModelAsync(JsonElement merge) =>
        (await service.Client.GetFromJsonAsync<JsonElement>(merge.GetProperty("links").GetProperty("report").GetString()),
         await TinyService.DownloadModelAsync(service, _files, merge));

    [Fact]
    public async Task Text_for_an_image_model_images_for_a_text_model_and_more_tokens_than_its_positions_are_refused_at_preflight()
    {
        var (baseId, tasks, _) = await UploadAsync(Bert);
        var resnet = await TinyService.PostAsync(service, "/checkpoints", ("model.safetensors", await File.ReadAllBytesAsync(ResNetTiny.File("torchvision.safetensors"))));
        TestCheckpoints.Save(_files.File("images.safetensors"), new Dictionary<string, torch.Tensor> { ["pixel_values"] = torch.zeros([4, 3, 20, 20]) });
        var images = await TinyService.PostAsync(service, "/datasets", ("images.safetensors", await File.ReadAllBytesAsync(_files.File("images.safetensors"))));

        using (var textForImages = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = resnet, tasks = new[] { tasks[0] with { checkpoint = resnet } } }))
        {
            var errors = Problems.Errors(await Problems.ReadAsync(textForImages, HttpStatusCode.UnprocessableEntity));
            Assert.Contains(errors, e => e.Pointer == "/tasks/0/adaptationData" && e.Code == "data_mismatch" && e.Detail.Contains("holds text where the model (resnet", StringComparison.Ordinal));
        }
        using (var imagesForText = await service.Client.PostAsJsonAsync("/merges", new { method = "adamerging", @base = baseId, tasks = new[] { tasks[0] with { adaptationData = images }, tasks[1] } }))
        {
            var errors = Problems.Errors(await Problems.ReadAsync(imagesForText, HttpStatusCode.UnprocessableEntity));
            Assert.Contains(errors, e => e.Pointer == "/tasks/0/adaptationData" && e.Detail.Contains("holds images where the model (bert", StringComparison.Ordinal)
                && e.Detail.Contains("takes text", StringComparison.Ordinal));
        }
        using var tooLong = await service.Client.PostAsJsonAsync("/merges", new { method = "task_arithmetic", @base = baseId, tasks, options = new { maxSequenceLength = 21 } });
        Assert.Contains(("/options/maxSequenceLength", "invalid", "maxSequenceLength 21 is more than the model's 20 positions (" + BertDescription + ")"),
            Problems.Errors(await Problems.ReadAsync(tooLong, HttpStatusCode.UnprocessableEntity)));
    }

    [Fact]
    public async Task A_text_over_the_upload_limit_and_a_csv_without_a_text_column_are_refused_and_nothing_is_stored()
    {
        var before = await CountDatasetsAsync();
        var overLong = "{\"text\": \"short\", \"label\": 0}\n{\"text\": \"" + new string('a', 100_001) + "\", \"label\": 1}\n";
        foreach (var (name, content, expected) in new[]
        {
            ("long.jsonl", overLong, "line 2: the text has 100001 characters, over the limit of 100000"),
            ("bad.csv", "sentence,label\nhello,1\n", "has no 'text' column"),
        })
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(content)), "file", name } };
            using var response = await service.Client.PostAsync("/datasets", form);
            Assert.Contains(expected, Problems.Text(await Problems.ReadAsync(response, HttpStatusCode.BadRequest)), StringComparison.Ordinal);
        }
        Assert.Equal(before, await CountDatasetsAsync());
    }

    private static string BertDescription
    {
        get
        {
            using var folder = BertTiny.Open();
            return folder.Spec!.Describe();
        }
    }

    private async Task<int> CountDatasetsAsync() => (await service.Client.GetFromJsonAsync<JsonElement>("/datasets?limit=100")).GetProperty("data").GetArrayLength();

    private sealed record TaskJson(string name, string checkpoint, string adaptationData, string evaluationData);

    /// <summary>
    /// The fixture as the base (its 3-class classifier standing for a pre-trained one), two perturbed tasks with
    /// 4-class classifiers of their own, and labeled texts of the vocabulary's words: JSON Lines for one, CSV for the other.
    /// </summary>
    private async Task<(string Base, TaskJson[] Tasks, Dictionary<string, torch.Tensor> BaseTensors)> UploadAsync(Family family)
    {
        using var weights = SafetensorsFile.Open(family.Weights);
        var θ0 = weights.Tensors.ToDictionary(t => t.Name, t => weights.Read(t.Name));
        async Task<string> Checkpoint(string path) => await TinyService.PostAsync(service, "/checkpoints",
            [("model.safetensors", await File.ReadAllBytesAsync(path)), .. await Task.WhenAll(family.SideFiles.Select(async f => (f.Name, await File.ReadAllBytesAsync(f.Path))))]);
        var baseId = await Checkpoint(family.Weights);
        var g = new torch.Generator(29);
        var random = new Random(29);
        var tasks = new List<TaskJson>();
        foreach (var (name, k) in new[] { ("spam", 0), ("names", 1) })
        {
            var tuned = θ0.Where(kv => kv.Key != family.Classifier && kv.Key != family.ClassifierBias)
                .ToDictionary(kv => kv.Key, kv => kv.Value.is_floating_point() && kv.Value.dim() > 0 && !kv.Key.EndsWith(".attn.bias", StringComparison.Ordinal)
                    ? kv.Value.Plus(torch.randn(kv.Value.shape, generator: g).Times(0.02)) : kv.Value);
            tuned[family.Classifier] = torch.randn([Classes, 32], generator: g);
            if (family.ClassifierBias is { } bias) tuned[bias] = torch.zeros(Classes);
            TestCheckpoints.Save(_files.File($"t{k}.safetensors"), tuned);
            var examples = Enumerable.Range(0, 12).Select(i => (Text: string.Join(' ', Enumerable.Range(0, 2 + random.Next(12)).Select(_ => Words[random.Next(Words.Length)])), Label: i % Classes)).ToList();
            var (file, content) = k == 0
                ? ("d.jsonl", string.Join('\n', examples.Select(e => JsonSerializer.Serialize(new { text = e.Text, label = e.Label }))))
                : ("d.csv", "text,label\n" + string.Join('\n', examples.Select(e => $"\"{e.Text}\",{e.Label}")));
            var data = await TinyService.PostAsync(service, "/datasets", (file, Encoding.UTF8.GetBytes(content)));
            tasks.Add(new TaskJson(name, await Checkpoint(_files.File($"t{k}.safetensors")), data, data));
        }
        return (baseId, [.. tasks], θ0);
    }

    private async Task<JsonElement> MergeAsync(string method, string baseId, TaskJson[] tasks, object options)
    {
        using var submitted = await service.Client.PostAsJsonAsync("/merges", new { method, @base = baseId, tasks, options });
        Assert.True(submitted.StatusCode == HttpStatusCode.Accepted, $"{method}: {await submitted.Content.ReadAsStringAsync()}");
        var merge = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString(), TimeSpan.FromMinutes(2));
        Assert.True(merge.GetProperty("status").GetString() == "succeeded", $"{method}: {merge}");
        return merge;
    }
}
