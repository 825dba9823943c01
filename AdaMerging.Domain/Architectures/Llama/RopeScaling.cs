using System.Text.Json;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Checkpoints;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures.Llama;

/// <summary>
/// config.json's <c>rope_scaling</c>: how the rotary embeddings' frequencies are stretched for long contexts
/// (docs/algorithm.md, "Decoder language models"). <c>linear</c> divides every frequency by the factor (position
/// interpolation); <c>llama3</c> (Llama 3.1 and later) divides the low frequencies by it, keeps the high ones, and
/// blends the band between. Other kinds (dynamic, yarn, longrope) change the attention's scale or depend on the
/// sequence length, and are refused by name.
/// </summary>
public sealed record RopeScaling(string Kind, double Factor, double LowFreqFactor = 1, double HighFreqFactor = 4, int OriginalMaxPositions = 8192)
{
    public static readonly IReadOnlySet<string> Kinds = new HashSet<string>(StringComparer.Ordinal) { "default", "linear", "llama3" };

    public string? Problem() =>
        !Kinds.Contains(Kind) ? $"rope_scaling's type '{Kind}' is not one this decoder runs ({string.Join(", ", Kinds)})"
        : Kind != "default" && !(Factor > 0) ? $"rope_scaling's factor {Factor} is not positive"
        : Kind == "llama3" && !(HighFreqFactor > LowFreqFactor && LowFreqFactor > 0 && OriginalMaxPositions > 0)
            ? "rope_scaling (llama3) needs high_freq_factor > low_freq_factor > 0 and a positive original_max_position_embeddings"
        : null;

    public static RopeScaling Parse(JsonElement json)
    {
        string kind = (json.TryGetProperty("rope_type", out var t) ? t.GetString() : json.TryGetProperty("type", out var legacy) ? legacy.GetString() : null)
            ?? throw new CheckpointFormatException("config.json's rope_scaling names no rope_type");
        double Number(string name, double fallback) => json.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : fallback;
        return new RopeScaling(kind, Number("factor", 1), Number("low_freq_factor", 1), Number("high_freq_factor", 4),
            (int)Number("original_max_position_embeddings", 8192));
    }

    public JsonObject ToJson() => Kind == "llama3"
        ? new JsonObject
        {
            ["rope_type"] = Kind, ["factor"] = Factor, ["low_freq_factor"] = LowFreqFactor, ["high_freq_factor"] = HighFreqFactor,
            ["original_max_position_embeddings"] = OriginalMaxPositions,
        }
        : new JsonObject { ["rope_type"] = Kind, ["factor"] = Factor };

    /// <summary>The rotary embeddings' inverse frequencies for heads of <paramref name="headDim"/>: [headDim / 2], float64 on the CPU.</summary>
    public static double[] InverseFrequencies(int headDim, double theta, RopeScaling? scaling)
    {
        var inverse = Enumerable.Range(0, headDim / 2).Select(i => 1.0 / Math.Pow(theta, 2.0 * i / headDim)).ToArray();
        if (scaling is null || scaling.Kind == "default") return inverse;
        if (scaling.Kind == "linear") return [.. inverse.Select(f => f / scaling.Factor)];
        double old = scaling.OriginalMaxPositions, lowWavelength = old / scaling.LowFreqFactor, highWavelength = old / scaling.HighFreqFactor;
        return [.. inverse.Select(f =>
        {
            double wavelength = 2 * Math.PI / f;
            if (wavelength < highWavelength) return f;
            if (wavelength > lowWavelength) return f / scaling.Factor;
            double smooth = (old / wavelength - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor);
            return (1 - smooth) * f / scaling.Factor + smooth * f;
        })];
    }

    /// <summary>cos and sin of position × frequency for positions 0 … <paramref name="length"/> − 1, each frequency twice (the heads' two halves): [L, headDim].</summary>
    public static (Tensor Cos, Tensor Sin) Rotations(double[] inverse, long length, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        var frequencies = tensor(inverse, dtype: ScalarType.Float32, device: device);
        var angles = arange(RootedScalars.Of(length), dtype: ScalarType.Float32, device: device).unsqueeze(1).mul(frequencies.unsqueeze(0));
        var both = cat([angles, angles], -1);
        return (both.cos().to_type(dtype).MoveToOuterDisposeScope(), both.sin().to_type(dtype).MoveToOuterDisposeScope());
    }
}
