using System.Text.Json;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark;

internal static class Json
{
    public static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}

/// <summary>Per task, on held-out training images (never the test labels): the checks that say whether the regime is sound.</summary>
public sealed record TaskDiagnostics(string Task, string Origin, int Classes, double PretrainedAccuracy, double PretrainedEntropy,
    double IndividualAccuracy, double WeightAveragingAccuracy, double TaskArithmeticAccuracy, double TaskVectorNorm);

public sealed record BuildDiagnostics(BenchmarkSettings Settings, string Model, double PretextAccuracy, double HeadLogitScale,
    double BaseNorm, IReadOnlyList<TaskDiagnostics> Tasks, double MeanTaskVectorCosine, double[][] TaskVectorCosines, double BuildSeconds);

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
        _cosines = names.Select(a => names.Select(b => F.cosine_similarity(vectors[a], vectors[b], dim: 0).item<float>() * 1.0).ToArray()).ToArray();
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
        return new BuildDiagnostics(settings, settings.Config.Describe(), pretextAccuracy, scale, _baseNorm, _tasks, meanCosine, _cosines, seconds);
    }

    private static Dictionary<string, Tensor> Combine(Dictionary<string, Tensor> θ0, Dictionary<string, Dictionary<string, Tensor>> fineTuned, double λ) =>
        θ0.ToDictionary(kv => kv.Key, kv => kv.Value + λ * fineTuned.Values.Select(θ => θ[kv.Key] - kv.Value).Aggregate((a, b) => a + b));

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
