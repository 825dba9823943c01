using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Tests.Support.Mlp;

/// <summary>
/// An architecture that lives in the test assembly alone, to prove the registry's seam (docs/algorithm.md,
/// "Architectures"): a multilayer perceptron over feature vectors, tensors <c>mlp.layers.N.weight</c> [out, in] and
/// <c>.bias</c> [out], GELU after every layer, its features the last layer's output. No production file names it.
/// </summary>
public sealed partial class MlpArchitecture : IArchitecture
{
    public const string LayoutName = "test_mlp";

    /// <summary>The one instance the tests register (registering it again does nothing).</summary>
    public static MlpArchitecture Instance { get; } = new();

    /// <summary>Registers it once for the test process: every test that uses it calls this first.</summary>
    public static void EnsureRegistered() => ModelArchitectures.Register(Instance);

    public string Name => "test_mlp";

    public string Summary => "a test's multilayer perceptron over feature vectors";

    public IReadOnlyList<string> Layouts { get; } = [LayoutName];

    public IReadOnlySet<string> SideFiles { get; } = new HashSet<string>(StringComparer.Ordinal);

    public ModelSpec? Recognise(ITensorSource weights, ModelFiles files)
    {
        if (weights.Find("mlp.layers.0.weight") is null) return null;
        var widths = new List<int>();
        for (int l = 0; weights.Find($"mlp.layers.{l}.weight") is { } w; l++)
        {
            if (w.Shape.Count != 2 || (widths.Count > 0 && w.Shape[1] != widths[^1]))
                throw new CheckpointFormatException($"tensor 'mlp.layers.{l}.weight' has shape {w.ShapeText}, which does not follow the layer before");
            if (widths.Count == 0) widths.Add((int)w.Shape[1]);
            widths.Add((int)w.Shape[0]);
            if (weights.Find($"mlp.layers.{l}.bias") is not { } b || !b.Shape.SequenceEqual([w.Shape[0]]))
                throw new CheckpointFormatException($"tensor 'mlp.layers.{l}.bias' is missing or not [{w.Shape[0]}]");
        }
        return new MlpSpec(this, widths);
    }

    /// <summary>The layer of an <c>mlp.layers.N.*</c> tensor.</summary>
    public static int? LayerOf(string tensor) =>
        LayerIndex().Match(tensor) is { Success: true } m ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;

    public static string ConfigJson(IReadOnlyList<int> widths) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["model_type"] = "test_mlp", ["widths"] = widths });

    [GeneratedRegex(@"^mlp\.layers\.(\d+)\.")]
    private static partial Regex LayerIndex();
}
