using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark;

/// <summary>A task's linear head on a backbone's features: the classifier its checkpoint or head file carries.</summary>
public sealed record LinearHead(Tensor Weight, Tensor Bias)
{
    public Tensor Logits(Tensor features) => F.linear(features, Weight, Bias);
}

/// <summary>A model's score on a task's examples: accuracy, mean entropy, and the Pearson correlation of each example's entropy with its loss.</summary>
public sealed record TaskScore(double Accuracy, double Entropy, double EntropyLossCorrelation);

/// <summary>Linear probes on frozen features (the benchmarks' pre-trained rows) and the scores the builds record.</summary>
public static class LinearProbes
{
    /// <summary>Multinomial logistic regression on frozen features: full-batch Adam, a small L2 penalty.</summary>
    public static LinearHead Train(Tensor features, Tensor labels, int classes, int seed, int steps = 400)
    {
        using var g = new Generator((ulong)seed);
        var weight = new Parameter(randn([classes, features.shape[1]], generator: g).Times(0.01));
        var bias = new Parameter(zeros(classes));
        using var optimizer = optim.Adam([weight, bias], lr: 1e-2);
        using (enable_grad())
            for (int step = 0; step < steps; step++)
            {
                using var scope = NewDisposeScope();
                var loss = F.cross_entropy(F.linear(features, weight, bias), labels).Plus(weight.pow(RootedScalars.Of(2)).sum().Times(1e-3));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
        return new LinearHead(weight.detach().clone(), bias.detach().clone());
    }

    /// <summary>Accuracy, mean prediction entropy, and per example the entropy and the cross-entropy loss (for their correlation).</summary>
    public static TaskScore Score(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var logP = logits.log_softmax(-1);
        var entropy = -(logP.exp() * logP).sum(-1);
        var loss = F.cross_entropy(logits, labels, reduction: nn.Reduction.None);
        return new TaskScore(logits.argmax(-1).eq(labels).to_type(ScalarType.Float64).mean().item<double>(),
            entropy.mean().item<float>(), Pearson(entropy, loss));
    }

    private static double Pearson(Tensor a, Tensor b)
    {
        var (x, y) = (a.to_type(ScalarType.Float64) - a.to_type(ScalarType.Float64).mean(), b.to_type(ScalarType.Float64) - b.to_type(ScalarType.Float64).mean());
        return ((x * y).sum() / (x.norm() * y.norm()).clamp_min(RootedScalars.Of(1e-300))).item<double>();
    }
}
