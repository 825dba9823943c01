using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Checkpoints.Lora;

/// <summary>
/// One adapted module of a LoRA adapter: its factors' names in the adapter's file and what they make, ΔW = scaling · B·A
/// (docs/algorithm.md, "LoRA adapters"). A is [r, in, …] and B [out, r, 1, …] for linear and convolution layers (ΔW is
/// B·A over the flattened trailing dimensions, [out, in, …]); an embedding's are A [r, rows] and B [width, r], ΔW =
/// (B·A)ᵀ; with fan_in_fan_out (GPT-2's Conv1D, whose weight is [in, out]) ΔW is stored transposed as well.
/// </summary>
/// <param name="Path">The module's name in the model (PEFT's key without base_model.model. and the factor's suffix).</param>
/// <param name="BBias">lora_B's bias (PEFT's lora_bias): the module's bias moves by scaling · it.</param>
/// <param name="Transposed">ΔW is (B·A)ᵀ: an embedding, or fan_in_fan_out.</param>
public sealed record LoraModule(string Path, string A, string B, string? BBias, long Rank, IReadOnlyList<long> DeltaShape, bool Transposed, double Scaling);

/// <summary>
/// A PEFT LoRA adapter folder read as a task: its config and the modules its weights adapt, and the full tensors it
/// carries (modules_to_save, biases trained with bias "all" or "lora_only"), each under the model's own name.
/// </summary>
public sealed class LoraAdapter
{
    public const string Layout = "peft_lora";

    private const string PeftPrefix = "base_model.model.";

    private LoraAdapter(LoraConfig config, IReadOnlyList<LoraModule> modules, IReadOnlyDictionary<string, string> fullTensors)
    {
        Config = config;
        Modules = modules;
        FullTensors = fullTensors;
    }

    public LoraConfig Config { get; }

    public IReadOnlyList<LoraModule> Modules { get; }

    /// <summary>Full tensors the adapter carries: the model's name → the adapter file's.</summary>
    public IReadOnlyDictionary<string, string> FullTensors { get; }

    /// <summary>The adapter its folder describes; every problem with its weights named at once as a <see cref="CheckpointFormatException"/>.</summary>
    public static LoraAdapter Read(string configJson, ITensorCatalog weights)
    {
        var config = LoraConfig.Parse(configJson);
        var factors = new Dictionary<string, (string? A, string? B, string? Bias, bool Embedding)>(StringComparer.Ordinal);
        var full = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var t in weights.Tensors)
        {
            var name = t.Name.StartsWith(PeftPrefix, StringComparison.Ordinal) ? t.Name[PeftPrefix.Length..] : t.Name;
            if (Factor(name) is var (path, role))
            {
                var f = factors.GetValueOrDefault(path);
                factors[path] = role switch
                {
                    "lora_A.weight" => f with { A = t.Name },
                    "lora_B.weight" => f with { B = t.Name },
                    "lora_B.bias" => f with { Bias = t.Name },
                    "lora_embedding_A" => f with { A = t.Name, Embedding = true },
                    "lora_embedding_B" => f with { B = t.Name, Embedding = true },
                    _ => f,
                };
                if (role == "lora_magnitude_vector") problems.Add($"'{t.Name}' is a DoRA magnitude: DoRA adapters are not read");
            }
            else if (!t.DType.IsFloatingPoint) problems.Add($"'{t.Name}' is {t.DType}, not a floating tensor");
            else full[ModelName(name)] = t.Name;
        }
        var modules = new List<LoraModule>();
        foreach (var (path, (a, b, bias, embedding)) in factors)
        {
            if (a is null || b is null)
            {
                problems.Add($"module '{path}' has lora_{(a is null ? "B" : "A")} without lora_{(a is null ? "A" : "B")}");
                continue;
            }
            var (module, problem) = Module(path, weights.Find(a)!, weights.Find(b)!, bias is null ? null : weights.Find(bias), embedding, config);
            if (problem is not null) problems.Add(problem);
            else modules.Add(module!);
        }
        if (modules.Count == 0 && full.Count == 0) problems.Add("the adapter's weights hold no lora_A/lora_B pair and no full tensor");
        if (problems.Count > 0) throw new CheckpointFormatException($"LoRA adapter: {string.Join("; ", problems.Take(10))}");
        return new LoraAdapter(config, modules, full);
    }

    private static readonly string[] FactorSuffixes = ["lora_A.weight", "lora_B.weight", "lora_B.bias", "lora_embedding_A", "lora_embedding_B", "lora_magnitude_vector"];

    private static (string Path, string Role)? Factor(string name)
    {
        foreach (var suffix in FactorSuffixes)
            if (name.EndsWith("." + suffix, StringComparison.Ordinal)) return (name[..^(suffix.Length + 1)], suffix);
        return null;
    }

    /// <summary>A full tensor's name in the model: PEFT's wrappers (base_layer, modules_to_save) taken out.</summary>
    private static string ModelName(string name) =>
        name.Replace(".base_layer.", ".", StringComparison.Ordinal).Replace(".modules_to_save.default.", ".", StringComparison.Ordinal)
            .Replace(".modules_to_save.", ".", StringComparison.Ordinal);

    /// <summary>The module its factors make, or what is wrong with their shapes.</summary>
    private static (LoraModule? Module, string? Problem) Module(string path, TensorInfo a, TensorInfo b, TensorInfo? bias, bool embedding, LoraConfig config)
    {
        var (sa, sb) = (a.Shape, b.Shape);
        bool transposed = embedding || config.FanInFanOut;
        string? problem = sa.Count < 2 || sb.Count < 2 ? $"lora_A {a.ShapeText} and lora_B {b.ShapeText} are not matrices"
            : sb[1] != sa[0] || sb.Skip(2).Any(d => d != 1) ? $"lora_B {b.ShapeText} does not follow lora_A {a.ShapeText} (B is [out, r, 1, …] for A [r, in, …])"
            : transposed && (sa.Count != 2 || sb.Count != 2) ? $"a transposed delta (an embedding, or fan_in_fan_out) needs 2-D factors, not {a.ShapeText} and {b.ShapeText}"
            : bias is not null && (bias.Shape.Count != 1 || bias.Shape[0] != sb[0]) ? $"lora_B's bias {bias.ShapeText} is not [{sb[0]}]"
            : null;
        if (problem is not null) return (null, $"module '{path}': {problem}");
        IReadOnlyList<long> shape = transposed ? [sa[1], sb[0]] : [sb[0], .. sa.Skip(1)];
        return (new LoraModule(path, a.Name, b.Name, bias?.Name, sa[0], shape, transposed, config.Scaling(path, sa[0])), null);
    }
}
