using AdaMerging.Domain.Merging;
using TorchSharp;

namespace AdaMerging.Tests.Support;

/// <summary>
/// Tasks over the tiny CLIP for merge runs: each a fine-tuned checkpoint, the fixture's head, and ten labeled images
/// (used as both adaptation and evaluation data).
/// </summary>
public static class TinyTasks
{
    public static Dictionary<string, string> HuggingFaceBase() =>
        new() { ["model.safetensors"] = ClipTiny.File("model.safetensors"), ["config.json"] = ClipTiny.File("config.json") };

    /// <param name="checkpoint">Writes task k's checkpoint to the path given (default: the fixture's weights plus noise).</param>
    public static List<PlannedTask> Write(TempDirectory dir, ulong seed, Action<string, torch.Generator>? checkpoint = null, int count = 2)
    {
        var g = new torch.Generator(seed);
        var tasks = new List<PlannedTask>();
        for (int k = 0; k < count; k++)
        {
            var model = dir.File($"t{k}.safetensors");
            (checkpoint ?? Perturbed)(model, g);
            var data = dir.File($"d{k}.safetensors");
            TestCheckpoints.Save(data, new Dictionary<string, torch.Tensor>
            {
                ["pixel_values"] = torch.randint(0, 256, [10, 3, 16, 16], generator: g).to_type(torch.ScalarType.Byte),
                ["labels"] = torch.randint(0, 5, [10], generator: g),
            });
            tasks.Add(new PlannedTask($"task{k}", new Dictionary<string, string> { ["model.safetensors"] = model }, ClipTiny.File("head.safetensors"), data, data));
        }
        return tasks;
    }

    /// <summary>The fixture's weights (all of them, Hugging Face layout) with Gaussian noise of 0.05 on the floating ones.</summary>
    public static void Perturbed(string path, torch.Generator g)
    {
        using var folder = ClipTiny.OpenHuggingFace();
        TestCheckpoints.Save(path, folder.Weights.Tensors.ToDictionary(t => t.Name,
            t => folder.Weights.Read(t.Name) is var w && w.is_floating_point() ? w.Plus(torch.randn(w.shape, generator: g).Times(0.05)) : w));
    }
}
