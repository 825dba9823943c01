using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Architectures.Clip;

/// <summary>Zero-shot heads against the PyTorch reference's, from both layouts, and every refusal at once.</summary>
public sealed class ZeroShotHeadsTests : TempDirectoryTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "hugging_face", "generic" }, { "hugging_face", "gtsrb" }, { "open_clip", "generic" }, { "open_clip", "gtsrb" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Head_weights_equal_the_PyTorch_reference_within_1e_5(string layout, string head)
    {
        using var folder = layout == "open_clip" ? ClipText.OpenOpenClip() : ClipText.OpenHuggingFace();
        var spec = ClipText.Reference().GetProperty("heads").GetProperty(head);
        var classes = spec.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!).ToList();
        var templates = spec.GetProperty("templates").EnumerateArray().Select(c => c.GetString()!).ToList();
        var path = Dir.File("head.safetensors");

        var info = ZeroShotHeads.Build(folder, new ZeroShotHeadSpec(classes, templates), path, new UploadLimits(), torch.CPU);

        Assert.Equal(info, HeadInfo.Inspect(path, new UploadLimits()) with { ClassNames = info.ClassNames });
        Assert.True(info.NormalizeFeatures);
        Assert.Equal(classes, HeadInfo.Inspect(path, new UploadLimits()).ClassNames);
        using var reference = ClipText.ReferenceTensors();
        using var expected = reference.Read($"head.{head}");
        using var file = SafetensorsFile.Open(path);
        using var actual = file.Read("weight");
        Assert.Equal(expected.shape, actual.shape);
        var difference = (actual - expected).abs().max().item<float>();
        Assert.True(difference <= 1e-5, $"largest difference {difference}");
    }

    [Fact]
    public void Every_problem_is_named_at_once_empty_classes_a_template_without_placeholder_no_tokenizer()
    {
        var files = ClipText.HuggingFaceFiles();
        files.Remove("vocab.json");
        files.Remove("merges.txt");
        using var folder = ModelFolder.Open(files);
        var error = Assert.Throws<ZeroShotHeadException>(() =>
            ZeroShotHeads.Build(folder, new ZeroShotHeadSpec([], ["a photo"]), Dir.File("h.safetensors"), new UploadLimits(), torch.CPU));
        Assert.Contains(new RequestProblem("/classNames", RequestProblemCode.Required, "the class list is empty"), error.Problems);
        Assert.Contains(new RequestProblem("/templates/0", RequestProblemCode.Invalid, "the template 'a photo' has no {} for the class name"), error.Problems);
        Assert.Contains(error.Problems, p => p.Pointer == "/checkpoint" && p.Detail.StartsWith("the checkpoint has no tokenizer files", StringComparison.Ordinal));
        Assert.False(File.Exists(Dir.File("h.safetensors")));
    }

    [Fact]
    public void A_vision_only_checkpoint_is_refused_for_lack_of_a_text_tower()
    {
        using var folder = ClipTiny.OpenHuggingFace();
        var error = Assert.Throws<ZeroShotHeadException>(() =>
            ZeroShotHeads.Build(folder, new ZeroShotHeadSpec(["cat"], ["a photo of a {}."]), Dir.File("h.safetensors"), new UploadLimits(), torch.CPU));
        Assert.Contains(error.Problems, p => p.Detail.StartsWith("the checkpoint has no CLIP text tower (it lacks text_model.embeddings.token_embedding.weight", StringComparison.Ordinal));
    }

    [Fact]
    public void A_class_whose_prompt_is_over_the_context_is_named()
    {
        using var folder = ClipText.OpenHuggingFace();
        var longName = string.Join(' ', Enumerable.Repeat("a", 80));
        var error = Assert.Throws<ZeroShotHeadException>(() =>
            ZeroShotHeads.Build(folder, new ZeroShotHeadSpec(["cat", longName], ["a photo of a {}."]), Dir.File("h.safetensors"), new UploadLimits(), torch.CPU));
        Assert.Single(error.Problems);
        Assert.Contains("over the context of 77", error.Problems[0].Detail, StringComparison.Ordinal);
        Assert.Equal("/templates", error.Problems[0].Pointer);
    }

    [Fact]
    public void Built_in_template_sets_are_the_official_eight_tasks_and_the_generic_one_each_with_a_placeholder()
    {
        Assert.Equal(["generic", "SUN397", "Cars", "RESISC45", "EuroSAT", "SVHN", "GTSRB", "MNIST", "DTD"], TemplateSets.All.Keys);
        Assert.All(TemplateSets.All.Values.SelectMany(t => t), t => Assert.Contains("{}", t, StringComparison.Ordinal));
        Assert.Equal((18, 8, 3), (TemplateSets.Find("resisc45")!.Value.Templates.Count, TemplateSets.Find("DTD")!.Value.Templates.Count, TemplateSets.All["EuroSAT"].Count));
        Assert.Null(TemplateSets.Find("imagenet"));
    }
}
