using AdaMerging.Domain.Architectures.Clip;
using System.Text.Json;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark;

/// <summary>How the benchmark writes and reads its JSON (build.json, results).</summary>
public static class Json
{
    // NaN marks what cannot be measured (a correlation over one task), so named floating-point literals are allowed.
    public static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>Per task, on held-out training images (never the test labels): the checks that say whether the regime is sound.</summary>
public sealed record TaskDiagnostics(string Task, string Origin, int Classes, double PretrainedAccuracy, double PretrainedEntropy,
    double IndividualAccuracy, double WeightAveragingAccuracy, double TaskArithmeticAccuracy, double TaskVectorNorm);

/// <summary>
/// The two checks to pass before trusting an AdaMerging comparison (on validation images): task arithmetic beats weight
/// averaging and the pre-trained model on average; and the pre-trained model's entropy tracks its accuracy across tasks
/// (Spearman correlation of entropy with accuracy, negative when it does).
/// </summary>
public sealed record RegimeChecks(double PretrainedAverage, double IndividualAverage, double WeightAveragingAverage, double TaskArithmeticAverage,
    bool TaskArithmeticBeatsWeightAveraging, bool TaskArithmeticBeatsPretrained, double EntropyAccuracySpearman);

public sealed record BuildDiagnostics(BenchmarkSettings Settings, string Model, double PretextAccuracy, double HeadLogitScale,
    double BaseNorm, IReadOnlyList<TaskDiagnostics> Tasks, double MeanTaskVectorCosine, double[][] TaskVectorCosines, RegimeChecks Checks,
    double BuildSeconds);

internal sealed class Diagnostics(BenchmarkSettings settings, double pretextAccuracy, double scale)
{
    private readonly List<TaskDiagnostics> _tasks = [];
    private double[][] _cosines = [];
    private double _baseNorm;

    public void Measure(ClipVisionEncoder encoder, Dictionary<string, Tensor> θ0, Dictionary<string, Dictionary<string, Tensor>> fineTuned,
        IReadOnlyList<TaskTensors> tasks, Dictionary<string, ClassificationHead> heads)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var names = tasks.Select(t => t.Task.Name).ToList();
        var vectors = names.ToDictionary(n => n, n => cat(θ0.Keys.Select(k => (fineTuned[n][k] - θ0[k]).flatten()).ToList()));
        _baseNorm = cat(θ0.Values.Select(v => v.flatten()).ToList()).norm().item<float>();
        _cosines = names.Select(a => names.Select(b => (double)F.cosine_similarity(vectors[a], vectors[b], dim: 0).item<float>()).ToArray()).ToArray();
        var averaged = Combine(θ0, fineTuned, 1.0 / names.Count);
        var arithmetic = Combine(θ0, fineTuned, 0.3);
        foreach (var t in tasks)
        {
            var head = heads[t.Task.Name];
            var (pretrained, entropy) = Evaluate(encoder, θ0, head, t);
            _tasks.Add(new TaskDiagnostics(t.Task.Name, t.Task.Origin, t.Task.Classes.Count, pretrained, entropy,
                Evaluate(encoder, fineTuned[t.Task.Name], head, t).Accuracy, Evaluate(encoder, averaged, head, t).Accuracy,
                Evaluate(encoder, arithmetic, head, t).Accuracy, vectors[t.Task.Name].norm().item<float>()));
            Console.WriteLine($"  {_tasks[^1]}");
        }
    }

    public BuildDiagnostics Result(double seconds)
    {
        int k = _cosines.Length;
        double meanCosine = k < 2 ? double.NaN : Enumerable.Range(0, k).SelectMany(i => Enumerable.Range(0, k).Where(j => j != i).Select(j => _cosines[i][j])).Average();
        double pre = _tasks.Average(t => t.PretrainedAccuracy), wa = _tasks.Average(t => t.WeightAveragingAccuracy), ta = _tasks.Average(t => t.TaskArithmeticAccuracy);
        var checks = new RegimeChecks(pre, _tasks.Average(t => t.IndividualAccuracy), wa, ta, ta > wa, ta > pre,
            Spearman(_tasks.Select(t => t.PretrainedEntropy).ToList(), _tasks.Select(t => t.PretrainedAccuracy).ToList()));
        Console.WriteLine($"  {checks}");
        return new BuildDiagnostics(settings, settings.Config.Describe(), pretextAccuracy, scale, _baseNorm, _tasks, meanCosine, _cosines, checks, seconds);
    }

    private static double Spearman(List<double> x, List<double> y)
    {
        if (x.Count < 2) return double.NaN;
        double[] Ranks(List<double> v) => v.Select(a => v.Count(b => b < a) + (v.Count(b => b == a) - 1) / 2.0).ToArray();
        var (rx, ry) = (Ranks(x), Ranks(y));
        double mx = rx.Average(), my = ry.Average();
        double cov = rx.Zip(ry).Sum(p => (p.First - mx) * (p.Second - my));
        double sx = Math.Sqrt(rx.Sum(a => (a - mx) * (a - mx))), sy = Math.Sqrt(ry.Sum(b => (b - my) * (b - my)));
        return sx == 0 || sy == 0 ? double.NaN : cov / (sx * sy);
    }

    private static Dictionary<string, Tensor> Combine(Dictionary<string, Tensor> θ0, Dictionary<string, Dictionary<string, Tensor>> fineTuned, double λ) =>
        θ0.ToDictionary(kv => kv.Key, kv => kv.Value.Plus(fineTuned.Values.Select(θ => θ[kv.Key] - kv.Value).Aggregate((a, b) => a.Plus(b)).Times(λ)));

    private static (double Accuracy, double Entropy) Evaluate(ClipVisionEncoder encoder, IReadOnlyDictionary<string, Tensor> θ, ClassificationHead head, TaskTensors t)
    {
        using var scope = NewDisposeScope();
        var logits = head.Logits(EncoderTraining.Features(encoder, θ, t.ValidationImages));
        var accuracy = logits.argmax(-1).eq(t.ValidationLabels).to_type(ScalarType.Float64).mean().item<double>();
        var p = logits.softmax(-1);
        var entropy = -(p * logits.log_softmax(-1)).sum(-1).mean().to_type(ScalarType.Float64).item<double>();
        return (accuracy, entropy);
    }
}
