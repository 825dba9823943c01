using System.Text.Json;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Checkpoints.Lora;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>One matrix of a merge written as a LoRA: the rank kept and ‖Δ − B·A‖ / ‖Δ‖ of the factors written.</summary>
public sealed record LoraTensorError(string Tensor, long Rank, double RelativeError);

/// <summary>A tensor the merge changed that a LoRA cannot carry (not a matrix), with ‖θ − θ0‖ / ‖θ0‖.</summary>
public sealed record LoraLeftOut(string Tensor, double RelativeChange);

/// <summary>What <c>output: lora</c> wrote: the rank asked for, each matrix's rank and error, and what was left out.</summary>
public sealed record LoraOutput(long Rank, IReadOnlyList<LoraTensorError> Tensors, IReadOnlyList<LoraLeftOut> LeftOut);

/// <summary>
/// The merged model as a PEFT LoRA adapter over its base (docs/algorithm.md, "LoRA output"): each changed matrix's
/// delta Δ = θ − θ0 by its truncated SVD, U_r √S_r and √S_r V_rᵀ (the best rank-r approximation), as lora_B and lora_A
/// (an embedding's, or a weight stored [in, out] as GPT-2's Conv1D's, transposed as PEFT stores them), scaling 1 (lora_alpha = r). A tensor at a
/// time: the merged and the base's values, the factors kept (r · (rows + columns) each) and written at the end.
/// </summary>
public static class LoraExtraction
{
    public const string WeightsFileName = "adapter_model.safetensors";

    private const string PeftPrefix = "base_model.model.";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Modules PEFT adapts as embeddings (lora_embedding_A/B) by their last name: the embedding classes of the Hugging Face families.</summary>
    private static readonly HashSet<string> EmbeddingModules = new(StringComparer.Ordinal)
    {
        "embed_tokens", "wte", "wpe", "word_embeddings", "position_embeddings", "token_type_embeddings", "tok_embeddings", "embed_positions", "shared",
    };

    /// <param name="merged">The merged model as written.</param>
    /// <param name="theta0">The base under the same names.</param>
    /// <param name="inputByOutput">Whether a layer's weight (its name without .weight) is stored [in, out], as the base's architecture says (GPT-2's Conv1D): PEFT's fan_in_fan_out.</param>
    public static LoraOutput Write(string directory, ITensorSource merged, ITensorSource theta0, long rank, string baseModel, Func<string, bool> inputByOutput,
        CancellationToken ct)
    {
        var factors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var errors = new List<LoraTensorError>();
        var leftOut = new List<LoraLeftOut>();
        var modules = new Dictionary<string, long>(StringComparer.Ordinal);
        bool fanInFanOut = false;
        try
        {
            foreach (var t in merged.Tensors.Where(t => t.DType.IsFloatingPoint && theta0.Find(t.Name) is { } b && b.HasSameShape(t)))
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var base0 = theta0.Read(t.Name, ScalarType.Float32);
                var delta = merged.Read(t.Name, ScalarType.Float32).Plus(base0.neg());
                double norm = delta.norm().item<float>();
                if (norm == 0) continue;
                if (t.Shape.Count != 2 || !t.Name.EndsWith(".weight", StringComparison.Ordinal))
                {
                    leftOut.Add(new LoraLeftOut(t.Name, norm / Math.Max(base0.norm().item<float>(), float.Epsilon)));
                    continue;
                }
                var module = t.Name[..^".weight".Length];
                var last = module[(module.LastIndexOf('.') + 1)..];
                bool embedding = EmbeddingModules.Contains(last), conv1D = !embedding && inputByOutput(module), transposed = embedding || conv1D;
                fanInFanOut |= conv1D;
                var (b, a, kept) = Factors(delta, rank);
                using var reconstructed = b.matmul(a);
                errors.Add(new LoraTensorError(t.Name, kept, delta.Plus(reconstructed.neg()).norm().item<float>() / norm));
                // PEFT's (B·A)ᵀ for a transposed module: its A is our Bᵀ, its B our Aᵀ.
                var (peftA, peftB) = transposed ? (b.t().contiguous(), a.t().contiguous()) : (a, b);
                var (nameA, nameB) = embedding ? ("lora_embedding_A", "lora_embedding_B") : ("lora_A.weight", "lora_B.weight");
                factors[PeftPrefix + module + "." + nameA] = peftA.MoveToOuterDisposeScope();
                factors[PeftPrefix + module + "." + nameB] = peftB.MoveToOuterDisposeScope();
                modules[module] = kept;
            }
            SafetensorsWriter.Save(Path.Combine(directory, WeightsFileName), factors, new Dictionary<string, string> { ["format"] = "pt" });
            File.WriteAllText(Path.Combine(directory, LoraConfig.FileName), Config(rank, baseModel, modules, fanInFanOut));
            return new LoraOutput(rank, errors, leftOut);
        }
        finally
        {
            foreach (var f in factors.Values) f.Dispose();
        }
    }

    /// <summary>Δ ≈ B·A of rank min(r, rows, columns) by truncated SVD, √S on each side.</summary>
    private static (Tensor B, Tensor A, long Rank) Factors(Tensor delta, long rank)
    {
        var (u, s, vh) = linalg.svd(delta, fullMatrices: false);
        long kept = Math.Min(rank, s.shape[0]);
        var root = s.narrow(0, 0, kept).sqrt();
        var b = u.narrow(1, 0, kept).mul(root.unsqueeze(0)).contiguous();
        var a = vh.narrow(0, 0, kept).mul(root.unsqueeze(1)).contiguous();
        return (b, a, kept);
    }

    /// <summary>
    /// adapter_config.json: LoRA of rank r with α = r (scaling 1), the adapted modules by their full names; a matrix
    /// too small for r keeps its own rank by rank_pattern, with α the same by alpha_pattern.
    /// </summary>
    private static string Config(long rank, string baseModel, Dictionary<string, long> modules, bool fanInFanOut)
    {
        var smaller = modules.Where(m => m.Value != rank).ToDictionary(m => m.Key, m => m.Value, StringComparer.Ordinal);
        return JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["peft_type"] = "LORA",
        ["base_model_name_or_path"] = baseModel,
        ["r"] = rank,
        ["lora_alpha"] = rank,
        ["use_rslora"] = false,
        ["fan_in_fan_out"] = fanInFanOut,
        ["target_modules"] = modules.Keys.ToList(),
        ["rank_pattern"] = smaller,
        ["alpha_pattern"] = smaller,
        ["bias"] = "none",
        ["lora_dropout"] = 0.0,
        ["inference_mode"] = true,
    }, Indented);
    }
}
