using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Architectures.Clip;
using System.Text;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Merging;
using AdaMerging.Tests.Support;
using SkiaSharp;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Models;

public sealed class HeadAndDatasetTests : TempDirectoryTests
{
    private static readonly UploadLimits Limits = new();

    [Fact]
    public void A_head_reports_classes_features_bias_normalisation_and_names()
    {
        var path = Dir.File("head.safetensors");
        var layout = new List<(string, AdaMerging.Domain.Tensors.SafetensorsDType, IReadOnlyList<long>)>
        {
            ("weight", AdaMerging.Domain.Tensors.SafetensorsDType.F32, [3L, 12L]),
            ("bias", AdaMerging.Domain.Tensors.SafetensorsDType.F32, [3L]),
        };
        using (var w = new AdaMerging.Domain.Tensors.SafetensorsWriter(path, layout,
            new Dictionary<string, string> { ["normalize"] = "true", ["classes"] = """["cat","dog","owl"]""" }))
        {
            w.Write("weight", torch.randn(3, 12));
            w.Write("bias", torch.zeros(3));
            w.Commit();
        }
        var head = HeadInfo.Inspect(path, Limits);
        Assert.Equal((3, 12, true, true), (head.Classes, head.FeatureSize, head.HasBias, head.NormalizeFeatures));
        Assert.Equal(["cat", "dog", "owl"], head.ClassNames);
    }

    [Fact]
    public void A_tensor_dataset_reports_count_shape_and_labels()
    {
        var path = Dir.File("data.safetensors");
        TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor>
        {
            ["pixel_values"] = torch.randint(0, 255, [5, 3, 8, 8]).to_type(torch.ScalarType.Byte),
            ["labels"] = torch.tensor(new long[] { 0, 2, 1, 2, 0 }),
        });
        Assert.Equal(new DatasetInfo(DatasetFormat.Tensors, 5, 3, 8, 8, true, 2, null), DatasetInfo.Inspect(path, Limits));
        var (pixels, labels) = TensorDataset.Load(path, new ClipImages(8));
        Assert.Equal([5L, 3, 8, 8], pixels.shape);
        Assert.Equal(torch.ScalarType.Float32, pixels.dtype);
        Assert.Equal(new long[] { 0, 2, 1, 2, 0 }, labels!.data<long>().ToArray());
    }

    [Fact]
    public void A_class_folder_archive_labels_by_folder_and_preprocesses_as_CLIP_does()
    {
        var path = Dir.File("folders.zip");
        File.WriteAllBytes(path, Images.Zip(
            ("cat/a.png", Images.Png(20, 10, new SKColor(255, 0, 0))),
            ("dog/b.png", Images.Png(10, 30, new SKColor(0, 128, 255))),
            ("cat/c.png", Images.Png(8, 8, new SKColor(0, 0, 0)))));
        var info = DatasetInfo.Inspect(path, Limits);
        Assert.Equal(DatasetFormat.ImageFolders, info.Format);
        Assert.Equal(3, info.Count);
        Assert.Equal(["cat", "dog"], info.ClassNames);

        var (pixels, labels) = ImageArchive.Load(path, new ClipImages(8), Limits);
        Assert.Equal([3L, 3, 8, 8], pixels.shape);
        Assert.Equal(new long[] { 0, 0, 1 }, labels!.data<long>().ToArray()); // cat/a, cat/c, dog/b in ordinal order
        // A solid colour survives resizing and cropping exactly; normalisation is (v/255 − mean) / std per channel.
        float Expected(float v, float mean, float std) => (v / 255f - mean) / std;
        var red = pixels[0];
        Assert.Equal(Expected(255, 0.48145466f, 0.26862954f), red[0, 4, 4].item<float>(), 4);
        Assert.Equal(Expected(0, 0.4578275f, 0.26130258f), red[1, 0, 0].item<float>(), 4);
        var blue = pixels[2];
        Assert.Equal(Expected(128, 0.4578275f, 0.26130258f), blue[1, 7, 3].item<float>(), 4);
        Assert.Equal(Expected(255, 0.40821073f, 0.27577711f), blue[2, 2, 6].item<float>(), 4);
    }

    [Fact]
    public void A_flat_archive_takes_its_labels_from_labels_csv()
    {
        var path = Dir.File("flat.zip");
        File.WriteAllBytes(path, Images.Zip(
            ("labels.csv", Encoding.UTF8.GetBytes("file,label\nx.png,4\ny.png,1\n")),
            ("x.png", Images.Png(8, 8, SKColors.White)),
            ("y.png", Images.Png(8, 8, SKColors.Gray))));
        var info = DatasetInfo.Inspect(path, Limits);
        Assert.Equal(new DatasetInfo(DatasetFormat.ImageList, 2, 3, null, null, true, 4, null), info);
    }

    [Fact]
    public void Preflight_names_every_mismatch_between_encoder_heads_and_data()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny);
        TestCheckpoints.Save(Dir.File("model.safetensors"), hf);
        using var folder = ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = Dir.File("model.safetensors") });
        var head = new HeadInfo(Classes: 3, FeatureSize: 16, HasBias: false, NormalizeFeatures: true, ClassNames: null);
        var data = new DatasetInfo(DatasetFormat.Tensors, 10, 1, 32, 32, true, 7, null);
        var problems = Preflight.Check(folder.Weights, folder.Spec,
            [new PreflightTask("mnist", folder.Weights, head, data, data with { HasLabels = false, MaxLabel = null })]);
        Assert.Contains(new RequestProblem("/tasks/0/head", RequestProblemCode.HeadMismatch, "task 'mnist' head takes 16 features where the encoder gives 12"), problems);
        Assert.Contains(new RequestProblem("/tasks/0/adaptationData", RequestProblemCode.DataMismatch, "task 'mnist' adaptation dataset has 1 channel(s) where the model takes 3"), problems);
        Assert.Contains(new RequestProblem("/tasks/0/adaptationData", RequestProblemCode.DataMismatch, "task 'mnist' adaptation dataset holds 32×32 images where the model takes 8×8"), problems);
        Assert.Contains(new RequestProblem("/tasks/0/adaptationData", RequestProblemCode.LabelOutOfRange, "task 'mnist' adaptation dataset has label 7 but the head has 3 classes"), problems);
        Assert.Contains(new RequestProblem("/tasks/0/evaluationData", RequestProblemCode.LabelsMissing, "task 'mnist' evaluation dataset has no labels"), problems);
    }

    [Fact]
    public void Preflight_of_a_matching_merge_is_empty()
    {
        var hf = ClipFixtures.HuggingFace(ClipFixtures.Tiny);
        TestCheckpoints.Save(Dir.File("model.safetensors"), hf);
        using var folder = ModelFolder.Open(new Dictionary<string, string> { ["model.safetensors"] = Dir.File("model.safetensors") });
        var head = new HeadInfo(3, 12, true, true, null);
        var data = new DatasetInfo(DatasetFormat.Tensors, 10, 3, 8, 8, true, 2, null);
        Assert.Empty(Preflight.Check(folder.Weights, folder.Spec, [new PreflightTask("a", folder.Weights, head, data, data)]));
    }
}
