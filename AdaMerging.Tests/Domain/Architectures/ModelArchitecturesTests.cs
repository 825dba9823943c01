using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using AdaMerging.Tests.Support.Mlp;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Architectures;

/// <summary>The registry of model families: what it recognises, and what it refuses to register.</summary>
public sealed class ModelArchitecturesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Every_registered_architecture_has_a_name_and_layouts_of_its_own()
    {
        MlpArchitecture.EnsureRegistered();
        var all = ModelArchitectures.All;
        Assert.Equal(all.Count, all.Select(a => a.Name).Distinct().Count());
        var layouts = all.SelectMany(a => a.Layouts).ToList();
        Assert.Equal(layouts.Count, layouts.Distinct().Count());
        Assert.DoesNotContain(ModelArchitectures.UnknownLayout, layouts);
        Assert.All(all, a => Assert.All(a.Layouts, l => Assert.Same(a, ModelArchitectures.OfLayout(l))));
    }

    [Fact]
    public void A_second_architecture_of_a_taken_name_or_layout_is_refused_and_the_same_one_again_changes_nothing()
    {
        MlpArchitecture.EnsureRegistered();
        int count = ModelArchitectures.All.Count;
        MlpArchitecture.EnsureRegistered();
        Assert.Equal(count, ModelArchitectures.All.Count);
        Assert.Contains("named 'test_mlp' is registered already",
            Assert.Throws<ArgumentException>(() => ModelArchitectures.Register(new MlpArchitecture())).Message, StringComparison.Ordinal);
        Assert.Contains("open_clip", Assert.Throws<ArgumentException>(() => ModelArchitectures.Register(new Impostor())).Message, StringComparison.Ordinal);
        Assert.Equal(count, ModelArchitectures.All.Count);
    }

    [Fact]
    public void Each_checkpoint_is_recognised_by_its_own_architecture_and_one_no_architecture_knows_is_unknown()
    {
        MlpArchitecture.EnsureRegistered();
        using (var clip = ClipTiny.OpenHuggingFace())
        {
            Assert.IsType<ClipVisionSpec>(clip.Spec);
            Assert.Equal("clip_vision", clip.Spec!.Architecture.Name);
        }
        using (var mlp = Open(new() { ["mlp.layers.0.weight"] = torch.zeros(3, 2), ["mlp.layers.0.bias"] = torch.zeros(3) }))
            Assert.Equal(MlpArchitecture.LayoutName, mlp.Layout);
        using var other = Open(new() { ["encoder.weight"] = torch.zeros(3, 2) });
        Assert.Null(other.Spec);
        Assert.Equal(ModelArchitectures.UnknownLayout, other.Layout);
        Assert.Null(other.FeatureSize);
    }

    [Fact]
    public void Weights_an_architecture_claims_but_that_contradict_themselves_are_refused_naming_the_tensor()
    {
        MlpArchitecture.EnsureRegistered();
        var error = Assert.Throws<CheckpointFormatException>(() => Open(new()
        {
            ["mlp.layers.0.weight"] = torch.zeros(3, 2), ["mlp.layers.0.bias"] = torch.zeros(3),
            ["mlp.layers.1.weight"] = torch.zeros(4, 5), ["mlp.layers.1.bias"] = torch.zeros(4),
        }));
        Assert.Contains("'mlp.layers.1.weight' has shape [4, 5]", error.Message, StringComparison.Ordinal);
    }

    private ModelFolder Open(Dictionary<string, torch.Tensor> tensors)
    {
        var path = _dir.File($"{Guid.NewGuid():N}.safetensors");
        TestCheckpoints.Save(path, tensors);
        return ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = path });
    }

    /// <summary>Claims CLIP's open_clip layout under a name of its own.</summary>
    private sealed class Impostor : IArchitecture
    {
        public string Name => "impostor";

        public string Summary => "claims a layout that is taken";

        public IReadOnlyList<string> Layouts { get; } = [ClipVisionArchitecture.OpenClipLayout];

        public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>();

        public ModelSpec? Recognise(ITensorSource weights, ModelFiles files) => null;
    }
}
