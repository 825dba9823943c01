using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;

namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// A ResNet's shape as Hugging Face's ResNetConfig gives it: the stem's width (embedding_size), each stage's output
/// width (hidden_sizes, after a bottleneck's 4× expansion) and depth, the block type, and where a stage's stride sits.
/// torchvision's checkpoints come without one; their config is read off the shapes (docs/algorithm.md, "ResNet").
/// </summary>
public sealed record ResNetConfig(
    string LayerType,
    IReadOnlyList<int> Depths,
    IReadOnlyList<int> HiddenSizes,
    int EmbeddingSize = 64,
    int NumChannels = 3,
    bool DownsampleInFirstStage = false,
    bool DownsampleInBottleneck = false,
    double BatchNormEps = 1e-5)
{
    public const string Basic = "basic", Bottleneck = "bottleneck";

    /// <summary>A bottleneck block's 1×1 reduction: its inner width is the stage's width / 4.</summary>
    public const int Expansion = 4;

    public bool IsBottleneck => LayerType == Bottleneck;

    /// <summary>Residual blocks in all: the model's stages besides the stem and the pooling.</summary>
    public int Blocks => Depths.Sum();

    /// <summary>The width of the pooled features the heads take.</summary>
    public int FeatureSize => HiddenSizes[^1];

    /// <summary>The stride of a stage's first block (the others have 1).</summary>
    public int StrideOf(int stage) => stage == 0 && !DownsampleInFirstStage ? 1 : 2;

    /// <summary>The stage and block within it of residual block <paramref name="index"/> (0-based, in forward order).</summary>
    public (int Stage, int Block) Locate(int index)
    {
        for (int s = 0; s < Depths.Count; index -= Depths[s], s++)
            if (index < Depths[s]) return (s, index);
        throw new ArgumentOutOfRangeException(nameof(index));
    }

    /// <summary>The input width of a stage's block.</summary>
    public int InputWidth(int stage, int block) => block > 0 ? HiddenSizes[stage] : stage == 0 ? EmbeddingSize : HiddenSizes[stage - 1];

    /// <summary>Whether a block has a projection shortcut (its width or resolution changes).</summary>
    public bool HasShortcut(int stage, int block) => block == 0 && (InputWidth(stage, 0) != HiddenSizes[stage] || StrideOf(stage) != 1);

    public string Describe() =>
        $"ResNet ({LayerType} blocks): depths [{string.Join(", ", Depths)}], widths [{string.Join(", ", HiddenSizes)}], stem {EmbeddingSize}";

    /// <summary>Every way the config is inconsistent in itself; empty when sound.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Require(bool ok, string problem) { if (!ok) problems.Add(problem); }
        Require(LayerType is Basic or Bottleneck, $"layer_type '{LayerType}' is not basic or bottleneck");
        Require(Depths.Count is > 0 and <= 8 && Depths.Count == HiddenSizes.Count,
            $"depths ({Depths.Count}) and hidden_sizes ({HiddenSizes.Count}) must list the same 1-8 stages");
        Require(Depths.All(d => d is > 0 and <= 64), "every depth must be 1-64");
        Require(HiddenSizes.All(h => h is > 0 and <= 16384 && (!IsBottleneck || h % Expansion == 0)),
            $"every hidden size must be 1-16384{(IsBottleneck ? " and a multiple of 4 (bottleneck blocks)" : "")}");
        Require(EmbeddingSize is > 0 and <= 4096, $"embedding_size {EmbeddingSize} is outside 1-4096");
        Require(NumChannels is 1 or 3 or 4, $"num_channels {NumChannels} is not 1, 3 or 4");
        Require(BatchNormEps is > 0 and < 1, $"batch norm eps {BatchNormEps} is outside (0, 1)");
        return problems;
    }

    /// <summary>config.json in Hugging Face's ResNetConfig form (what a merged model of a base without one is written with).</summary>
    public string ToJson(IReadOnlyList<string>? architectures = null)
    {
        var json = new JsonObject
        {
            ["model_type"] = "resnet",
            ["num_channels"] = NumChannels,
            ["embedding_size"] = EmbeddingSize,
            ["hidden_sizes"] = new JsonArray([.. HiddenSizes.Select(h => (JsonNode)h)]),
            ["depths"] = new JsonArray([.. Depths.Select(d => (JsonNode)d)]),
            ["layer_type"] = LayerType,
            ["hidden_act"] = "relu",
            ["downsample_in_first_stage"] = DownsampleInFirstStage,
            ["downsample_in_bottleneck"] = DownsampleInBottleneck,
        };
        if (architectures is not null) json["architectures"] = new JsonArray([.. architectures.Select(a => (JsonNode)a!)]);
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Reads Hugging Face's config.json; throws <see cref="CheckpointFormatException"/> naming what is wrong.</summary>
    public static ResNetConfig Parse(string json)
    {
        ResNetConfig config;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.TryGetProperty("model_type", out var type) && type.GetString() is { } t && t != "resnet")
                throw new CheckpointFormatException($"config.json is for model_type '{t}', not resnet");
            if (root.TryGetProperty("hidden_act", out var act) && act.GetString() != "relu")
                throw new CheckpointFormatException($"config.json hidden_act '{act.GetString()}' is not relu");
            int[] Ints(string name, int[] fallback) => root.TryGetProperty(name, out var v) ? [.. v.EnumerateArray().Select(e => e.GetInt32())] : fallback;
            int Int(string name, int fallback) => root.TryGetProperty(name, out var v) ? v.GetInt32() : fallback;
            bool Bool(string name) => root.TryGetProperty(name, out var v) && v.GetBoolean();
            // Hugging Face's defaults are ResNet-50's.
            config = new ResNetConfig(root.TryGetProperty("layer_type", out var layer) ? layer.GetString() ?? "" : Bottleneck,
                Ints("depths", [3, 4, 6, 3]), Ints("hidden_sizes", [256, 512, 1024, 2048]), Int("embedding_size", 64), Int("num_channels", 3),
                Bool("downsample_in_first_stage"), Bool("downsample_in_bottleneck"));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new CheckpointFormatException($"config.json is not a ResNet config: {e.Message}");
        }
        if (config.Problems() is { Count: > 0 } problems) throw new CheckpointFormatException($"config.json: {string.Join("; ", problems)}");
        return config;
    }
}
