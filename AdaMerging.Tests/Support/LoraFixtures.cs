using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support;

/// <summary>
/// tools/make_lora_fixture.py's output: a base (float32 and bfloat16), four PEFT adapter folders, each adapter's model
/// by PEFT's formulas in float64, and task arithmetic over the four at λ = 0.3.
/// </summary>
public static class LoraFixtures
{
    public const double Lambda = 0.3;

    public static readonly string[] Adapters = ["plain", "rslora", "conv1d", "modules_to_save"];

    public static string Dir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "lora");

    public static string File(string name) => Path.Combine(Dir, name);

    /// <summary>The base's folder: model.safetensors, float32 or bfloat16.</summary>
    public static Dictionary<string, string> Base(bool bfloat16 = false) =>
        new() { ["model.safetensors"] = File(bfloat16 ? "base_bf16.safetensors" : "base.safetensors") };

    /// <summary>An adapter's folder as uploaded: adapter_config.json and adapter_model.safetensors.</summary>
    public static Dictionary<string, string> Adapter(string name) =>
        Directory.GetFiles(Path.Combine(Dir, name)).ToDictionary(f => Path.GetFileName(f), f => f);

    /// <summary>The four adapters as a merge's tasks, named as they are.</summary>
    public static List<PlannedTask> Tasks() => [.. Adapters.Select(a => new PlannedTask(a, Adapter(a), null, null, null))];

    /// <summary>The full model an adapter folder makes of <paramref name="theta0"/>, saved in float32 as <paramref name="path"/>: model.safetensors of a folder.</summary>
    public static Dictionary<string, string> Densified(IReadOnlyDictionary<string, string> adapter, ModelFolder theta0, string path)
    {
        using var folder = ModelFolder.Open(adapter);
        var weights = folder.WeightsNamedAs(theta0);
        using (var scope = NewDisposeScope())
            TestCheckpoints.Save(path, weights.Tensors.ToDictionary(t => t.Name, t => weights.Read(t.Name)));
        return new() { ["model.safetensors"] = path };
    }
}
