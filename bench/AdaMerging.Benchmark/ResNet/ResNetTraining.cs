using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark.ResNet;

/// <summary>
/// Fine-tuning: SGD with momentum, a short linear warm-up then cosine decay, the usual recipe for ResNets. With
/// <paramref name="TrainingModeBatchNorm"/> the batch norms normalise with batch statistics and the head trains too
/// (LP-FT); without, they keep their running statistics (frozen batch norm) and the head stays the probe.
/// </summary>
public sealed record ResNetTrainingSettings(int Steps, int BatchSize, double LearningRate, double Momentum, double WeightDecay, int Seed,
    bool TrainingModeBatchNorm);

/// <summary>
/// The service's ResNet (<see cref="ResNetModel"/>) trained with autograd here: a linear probe on frozen features, then
/// the whole network and that head fine-tuned together with batch norms in training mode (LP-FT), then the running
/// statistics re-estimated on the task's training images (PyTorch's update_bn, <see cref="BatchStatistics"/>).
/// </summary>
public sealed class ResNetTraining(ResNetModel model, ImageNormalization normalization)
{
    /// <summary>uint8 grayscale [N, 1, S, S] → normalised float [N, 3, S, S] (gray replicated to RGB), as the service reads the datasets.</summary>
    public Tensor Input(Tensor grayBytes) => ClipPreprocessing.Normalize(grayBytes.expand(-1, 3, -1, -1), normalization);

    /// <summary>Features of many images in evaluation mode (running statistics), in batches, without gradients.</summary>
    public Tensor Features(IReadOnlyDictionary<string, Tensor> θ, Tensor grayBytes, int batchSize = 250) =>
        InBatches.Map(grayBytes, batchSize, batch => model.Features(θ, Input(batch)));

    /// <summary>
    /// Fine-tunes every weight and batch-norm affine of <paramref name="start"/> on the task from the head
    /// <paramref name="probe"/>; returns new tensors and the head. In training mode (docs/reproduction.md, "ResNet-18")
    /// the head trains too, since the batch norms normalise with the task's statistics, not ImageNet's the probe saw,
    /// and the running statistics are re-estimated after on up to <paramref name="statisticsImages"/> training images.
    /// </summary>
    public (Dictionary<string, Tensor> Weights, LinearHead Head) FineTune(IReadOnlyDictionary<string, Tensor> start, LinearHead probe,
        Tensor grayImages, Tensor labels, ResNetTrainingSettings s, int statisticsImages, Action<int, double> progress)
    {
        var trainable = start.Where(kv => !ResNetNames.IsRunningStatistic(kv.Key))
            .ToDictionary(kv => kv.Key, kv => new Parameter(kv.Value.detach().clone(), requires_grad: true));
        var θ = start.ToDictionary(kv => kv.Key, kv => trainable.TryGetValue(kv.Key, out var p) ? (Tensor)p : kv.Value.detach().clone());
        var (weight, bias) = (new Parameter(probe.Weight.clone(), s.TrainingModeBatchNorm), new Parameter(probe.Bias.clone(), s.TrainingModeBatchNorm));
        List<Parameter> optimised = s.TrainingModeBatchNorm ? [.. trainable.Values, weight, bias] : [.. trainable.Values];
        using var optimizer = optim.SGD(optimised, s.LearningRate, momentum: s.Momentum, weight_decay: s.WeightDecay);
        using var generator = new Generator((ulong)s.Seed);
        var training = s.TrainingModeBatchNorm ? model.ForTraining() : model;
        int warmup = Math.Max(1, s.Steps / 20);
        using (enable_grad())
            for (int step = 0; step < s.Steps; step++)
            {
                using var scope = NewDisposeScope();
                double lr = EncoderTraining.WarmupCosine(s.LearningRate, warmup, s.Steps, step);
                foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
                var batch = randint(grayImages.shape[0], [s.BatchSize], generator: generator);
                var features = training.Features(θ, Input(grayImages.index(batch)));
                var loss = F.cross_entropy(F.linear(features, weight, bias), labels.index(batch));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                if (step % 50 == 0 || step == s.Steps - 1) progress(step, loss.item<float>());
            }
        var trained = θ.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        foreach (var p in trainable.Values) p.Dispose();
        if (s.TrainingModeBatchNorm)
        {
            using var rows = new InMemoryImages(this, grayImages.narrow(0, 0, Math.Min(statisticsImages, grayImages.shape[0])));
            BatchStatistics.Recompute(model, trained, [rows], batch: 64);
        }
        return (trained, new LinearHead(weight.detach().clone(), bias.detach().clone()));
    }

    /// <summary>A task's images as the rows batch-norm re-estimation reads, normalised as the service normalises them.</summary>
    private sealed class InMemoryImages(ResNetTraining training, Tensor grayBytes) : IExampleRows
    {
        public long Count => grayBytes.shape[0];

        public Tensor Read(long[] rows, Device device) => training.Input(grayBytes.index(tensor(rows))).to(device);

        public void Dispose() { }
    }
}
