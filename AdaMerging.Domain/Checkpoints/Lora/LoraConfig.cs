using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdaMerging.Domain.Checkpoints.Lora;

/// <summary>
/// A PEFT LoRA adapter's adapter_config.json, what merging reads of it (docs/algorithm.md, "LoRA adapters"): the
/// scaling of each module (α/r, α/√r with rsLoRA, α per module by alpha_pattern; r is read from the factors' shapes,
/// which rank_pattern set), whether its matrices are stored transposed (fan_in_fan_out, GPT-2's Conv1D), and the base
/// it was trained on. DoRA and other PEFT methods are refused by name.
/// </summary>
public sealed record LoraConfig(double Alpha, bool RsLora, bool FanInFanOut, IReadOnlyList<KeyValuePair<string, double>> AlphaPattern,
    IReadOnlyList<string> ModulesToSave, string? BaseModel)
{
    public const string FileName = "adapter_config.json";

    /// <summary>PEFT's LoraConfig default, what a config without lora_alpha was trained with.</summary>
    public const double DefaultAlpha = 8;

    /// <summary>The scaling of a module of rank <paramref name="rank"/> at <paramref name="modulePath"/> (the model's module name, e.g. model.layers.0.self_attn.q_proj).</summary>
    public double Scaling(string modulePath, long rank)
    {
        double alpha = Alpha;
        // PEFT's get_pattern_key: the first pattern the whole name ends with, at a dot.
        foreach (var (pattern, value) in AlphaPattern)
        {
            if (!Regex.IsMatch(modulePath, $"^(.*\\.)?(?:{pattern})$", RegexOptions.None, TimeSpan.FromSeconds(1))) continue;
            alpha = value;
            break;
        }
        return RsLora ? alpha / Math.Sqrt(rank) : alpha / rank;
    }

    /// <summary>The config from its JSON; every problem named at once as a <see cref="CheckpointFormatException"/>.</summary>
    public static LoraConfig Parse(string json)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException($"{FileName} is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CheckpointFormatException($"{FileName} is not a JSON object");
            var problems = new List<string>();
            if (Text(root, "peft_type") is { } type && !type.Equals("LORA", StringComparison.OrdinalIgnoreCase))
                problems.Add($"peft_type is {type}: only LoRA adapters (LORA) are read");
            if (Flag(root, "use_dora"))
                problems.Add("use_dora is true: DoRA adapters rescale each row by a learned magnitude, which is not a low-rank delta; merge the DoRA adapter into its base with PEFT and upload the full model");
            var alpha = Number(root, "lora_alpha") ?? DefaultAlpha;
            var alphaPattern = new List<KeyValuePair<string, double>>();
            if (root.TryGetProperty("alpha_pattern", out var patterns) && patterns.ValueKind == JsonValueKind.Object)
                foreach (var p in patterns.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Number) alphaPattern.Add(new(p.Name, p.Value.GetDouble()));
                    else problems.Add($"alpha_pattern's '{p.Name}' is not a number");
                }
            var modulesToSave = root.TryGetProperty("modules_to_save", out var m) && m.ValueKind == JsonValueKind.Array
                ? m.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList() : [];
            if (problems.Count > 0) throw new CheckpointFormatException($"{FileName}: {string.Join("; ", problems)}");
            return new LoraConfig(alpha, Flag(root, "use_rslora"), Flag(root, "fan_in_fan_out"), alphaPattern, modulesToSave,
                Text(root, "base_model_name_or_path"));
        }
    }

    private static string? Text(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Number(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static bool Flag(JsonElement root, string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
