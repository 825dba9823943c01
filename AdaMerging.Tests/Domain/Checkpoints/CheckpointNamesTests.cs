using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using AdaMerging.Domain.Text;
using AdaMerging.Tests.Support;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Domain.Checkpoints;

/// <summary>
/// A task saved with its head (BertForSequenceClassification, RobertaForSequenceClassification, GPT2ForSequenceClassification,
/// ResNetForImageClassification) beside a base saved bare (BertModel, RobertaModel, GPT2Model, ResNetModel), and the
/// reverse: read under the base's names, the task is what it was (docs/algorithm.md, "Names across checkpoints").
/// </summary>
public sealed class CheckpointNamesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A classifier fixture's files (weights first) and an input its model takes.</summary>
    public sealed record Classifier(string Name, string Prefix, Func<Dictionary<string, string>> Files, Func<Tensor> Input)
    {
        public override string ToString() => Name;
    }

    private static readonly Classifier Bert = new("bert", "bert.",
        () => Files(BertTiny.File("bert_classifier", "model.safetensors"), BertTiny.File("bert_classifier", "config.json"), BertTiny.TokenizerFiles()),
        () => TokenBatch.Pack([[5, 9, 17], [6, 7, 8, 9, 10]], 0));

    public static TheoryData<Classifier> Classifiers =>
    [
        Bert,
        new("roberta", "roberta.", () => Files(BertTiny.File("roberta_classifier", "model.safetensors"), BertTiny.File("roberta_classifier", "config.json"), BertTiny.TokenizerFiles()),
            () => TokenBatch.Pack([[5, 9, 17], [6, 7, 8, 9, 10]], 1)),
        new("gpt2", "transformer.", () => Files(Gpt2Tiny.File("gpt2_classifier", "model.safetensors"), Gpt2Tiny.File("gpt2_classifier", "config.json"), Gpt2Tiny.TokenizerFiles()),
            () => TokenBatch.Pack([[5, 9, 17], [6, 7, 8, 9, 10]], 0)),
        new("resnet", "resnet.", () => Files(ResNetTiny.File("hugging_face.safetensors"), ResNetTiny.File("config.json"), []),
            () => randn([2, 3, 24, 24], generator: new Generator(3))),
    ];

    [Theory]
    [MemberData(nameof(Classifiers))]
    public void A_task_saved_with_its_head_beside_a_bare_base_is_read_under_the_base_s_names_and_gives_its_own_logits(Classifier classifier)
    {
        using var task = ModelFolder.Open(classifier.Files());
        using var bare = Bare(task, classifier);
        Assert.Equal((classifier.Prefix, "", task.Spec!.Layout), (task.Spec.NamePrefix, bare.Spec!.NamePrefix, bare.Spec.Layout));

        using var renamed = task.WeightsNamedAs(bare);
        Assert.Equal(bare.Weights.Tensors.Select(t => t.Name).Concat(task.Spec.ClassifierTensors.Where(n => task.Weights.Find(n) is not null)).Order(StringComparer.Ordinal),
            renamed.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Empty(CheckpointCompatibility.Differences(bare.Weights, "task", renamed, bare.Spec));
        Assert.Equal(task.Spec.ClassifierTensors, bare.Spec.ClassifierTensors);

        using var input = classifier.Input();
        using var own = Logits(task.Spec, task.Weights, input);
        using var asBase = Logits(bare.Spec, renamed, input);
        Assert.Equal(0, ReferenceDifference.Relative(own, asBase));
    }

    [Theory]
    [MemberData(nameof(Classifiers))]
    public void A_bare_task_beside_a_base_saved_with_a_head_is_read_under_the_base_s_prefix(Classifier classifier)
    {
        using var withHead = ModelFolder.Open(classifier.Files());
        using var bare = Bare(withHead, classifier);
        var renamed = bare.WeightsNamedAs(withHead);
        Assert.Equal(withHead.Weights.Tensors.Select(t => t.Name).Where(n => !withHead.Spec!.IsClassifier(n)), renamed.Tensors.Select(t => t.Name));
        Assert.Empty(CheckpointCompatibility.Differences(withHead.Weights, "task", renamed, withHead.Spec));
        Assert.Same(bare.Weights, bare.WeightsNamedAs(bare));
    }

    [Fact]
    public void What_still_differs_under_the_base_s_names_is_refused_naming_the_tensor()
    {
        using var task = ModelFolder.Open(Bert.Files());
        using var bare = Bare(task, Bert, drop: name => name.StartsWith("bert.pooler.", StringComparison.Ordinal));
        var differences = CheckpointCompatibility.Differences(bare.Weights, "task 'spam' checkpoint", task.WeightsNamedAs(bare), bare.Spec);
        Assert.Equal(["task 'spam' checkpoint has tensor 'pooler.dense.weight' [32, 32] that the base lacks",
            "task 'spam' checkpoint has tensor 'pooler.dense.bias' [32] that the base lacks"], differences);
    }

    /// <summary>The checkpoint as its bare class saves it: its prefix off, its head (and whatever <paramref name="drop"/> names) left out.</summary>
    private ModelFolder Bare(ModelFolder withHead, Classifier classifier, Func<string, bool>? drop = null)
    {
        var path = _dir.File($"{classifier.Name}-{Guid.NewGuid():N}.safetensors");
        TestCheckpoints.Save(path, withHead.Weights.Tensors.Where(t => !withHead.Spec!.IsClassifier(t.Name) && drop?.Invoke(t.Name) != true)
            .ToDictionary(t => t.Name[classifier.Prefix.Length..], t => withHead.Weights.Read(t.Name)));
        var files = classifier.Files();
        files["model.safetensors"] = path;
        return ModelFolder.Open(files);
    }

    private static Tensor Logits(ModelSpec spec, ITensorSource weights, Tensor input)
    {
        using var model = spec.CreateModel(weights);
        var θ = ModelParameters.Load(weights, ScalarType.Float32, CPU, spec.ReadsTensor);
        using var head = CheckpointHeads.Load(spec, weights, ScalarType.Float32, CPU) ?? throw new InvalidOperationException("no head found");
        using var _ = no_grad();
        try
        {
            using var features = model.Features(θ, input);
            return head.Logits(features);
        }
        finally
        {
            ModelParameters.Dispose(θ);
        }
    }

    private static Dictionary<string, string> Files(string weights, string config, Dictionary<string, string> side) =>
        new(side, StringComparer.Ordinal) { ["model.safetensors"] = weights, ["config.json"] = config };
}
