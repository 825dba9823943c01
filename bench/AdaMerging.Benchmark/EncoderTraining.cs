using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark;

/// <summary>Settings of one training run: AdamW with linear warm-up then cosine decay, as CLIP fine-tuning does.</summary>
public sealed record TrainingSettings(int Steps, int BatchSize, double LearningRate, double WeightDecay, int Seed, int WarmupSteps = 0);

/// <summary>
/// Trains the CLIP vision encoder's parameter dictionary with autograd (the same functional encoder the service
/// merges with), for pre-training on the pretext and for fine-tuning each task with its head frozen.
/// </summary>
public static class EncoderTraining
{
    /// <summary>CLIP-style initialisation: normal(0, 0.02) weights, zero biases, unit layer norms.</summary>
    public static Dictionary<string, Tensor> Initialize(ClipVisionConfig config, int seed)
    {
        var generator = new Generator((ulong)seed);
        return ClipVisionLayout.ExpectedShapes(config, withProjection: true).ToDictionary(t => t.Name, t =>
            t.Name.Contains("layer_norm", StringComparison.Ordinal) || t.Name.Contains("layrnorm", StringComparison.Ordinal)
                ? (t.Name.EndsWith(".weight", StringComparison.Ordinal) ? ones(t.Shape) : zeros(t.Shape))
                : t.Name.EndsWith(".bias", StringComparison.Ordinal) ? zeros(t.Shape)
                : randn(t.Shape, generator: generator).Times(0.02));
    }

    /// <summary>uint8 grayscale [N, 1, H, W] → CLIP-normalised float [N, 3, H, W] (gray replicated to RGB).</summary>
    public static Tensor Preprocess(Tensor grayBytes) => ClipPreprocessing.Normalize(grayBytes.expand(-1, 3, -1, -1));

    /// <summary>
    /// Minimises <paramref name="loss"/>(features, labels) over the encoder's parameters (and <paramref name="extra"/>
    /// trainable tensors); returns the trained encoder weights as new tensors, leaving <paramref name="start"/> as it was.
    /// </summary>
    public static Dictionary<string, Tensor> Train(ClipVisionEncoder encoder, IReadOnlyDictionary<string, Tensor> start,
        Tensor grayImages, Tensor labels, Func<Tensor, Tensor, Tensor> loss, TrainingSettings s, IReadOnlyList<Parameter>? extra = null,
        Action<int, double>? progress = null)
    {
        var θ = start.ToDictionary(kv => kv.Key, kv => new Parameter(kv.Value.detach().clone(), requires_grad: true));
        var trainable = θ.Values.Concat(extra ?? []).ToList();
        using var optimizer = optim.AdamW(trainable, lr: s.LearningRate, weight_decay: s.WeightDecay);
        var generator = new Generator((ulong)s.Seed);
        long n = grayImages.shape[0];
        var views = θ.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value);
        using (enable_grad())
        {
            for (int step = 0; step < s.Steps; step++)
            {
                using var scope = NewDisposeScope();
                foreach (var group in optimizer.ParamGroups) group.LearningRate = Schedule(s, step);
                var batch = randint(n, [s.BatchSize], generator: generator);
                var value = loss(encoder.Forward(views, Preprocess(grayImages.index(batch))), labels.index(batch));
                optimizer.zero_grad();
                value.backward();
                optimizer.step();
                if (progress is not null && (step % 50 == 0 || step == s.Steps - 1)) progress(step, value.item<float>());
            }
        }
        var trained = θ.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        foreach (var p in θ.Values) p.Dispose();
        return trained;
    }

    /// <summary>Features of many images, in batches, without gradients.</summary>
    public static Tensor Features(ClipVisionEncoder encoder, IReadOnlyDictionary<string, Tensor> θ, Tensor grayImages, int batchSize = 256) =>
        InBatches.Map(grayImages, batchSize, batch => encoder.Forward(θ, Preprocess(batch)));

    /// <summary>Cross-entropy of cosine-similarity logits: scale · normalize(f) · normalize(W)ᵀ, as CLIP's zero-shot heads compute.</summary>
    public static Tensor CosineCrossEntropy(Tensor features, Tensor classWeights, Tensor scale, Tensor labels) =>
        F.cross_entropy(scale * F.linear(F.normalize(features, p: 2, dim: -1), F.normalize(classWeights, p: 2, dim: -1)), labels);

    private static double Schedule(TrainingSettings s, int step) => WarmupCosine(s.LearningRate, s.WarmupSteps, s.Steps, step);

    /// <summary>A linear warm-up over <paramref name="warmup"/> steps, then cosine decay to zero at <paramref name="steps"/>.</summary>
    public static double WarmupCosine(double learningRate, int warmup, int steps, int step) =>
        step < warmup ? learningRate * (step + 1) / warmup
        : learningRate * 0.5 * (1 + Math.Cos(Math.PI * (step - warmup) / Math.Max(1, steps - warmup)));
}
