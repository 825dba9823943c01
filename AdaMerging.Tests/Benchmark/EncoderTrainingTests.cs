using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Benchmark;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Tests.Benchmark;

public sealed class EncoderTrainingTests
{
    private static readonly ClipVisionConfig Tiny = new(32, 64, 1, 1, 28, 7, 3, "quick_gelu", 1e-5, 16);

    [Fact]
    public void Training_lowers_the_loss_of_a_frozen_head_and_leaves_the_start_untouched()
    {
        var start = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var scope = NewDisposeScope())
        {
            var random = new Random(1);
            var labelBytes = Enumerable.Range(0, 256).Select(_ => (byte)random.Next(4)).ToArray();
            var images = tensor(SyntheticRawData.Bars(labelBytes, 28, random), [256, 1, 28, 28]);
            var labels = tensor(labelBytes.Select(l => (long)l).ToArray());
            var encoder = new ClipVisionEncoder(Tiny);
            var θ0 = EncoderTraining.Initialize(Tiny, seed: 2);
            var before = θ0.ToDictionary(kv => kv.Key, kv => kv.Value.clone());
            using var head = new ClassificationHead(randn([4, 16], generator: new Generator(3)).Times(10), null, normalizeFeatures: true);
            double Loss(IReadOnlyDictionary<string, Tensor> θ) =>
                F.cross_entropy(head.Logits(EncoderTraining.Features(encoder, θ, images)), labels).item<float>();

            var trained = EncoderTraining.Train(encoder, θ0, images, labels, (f, y) => F.cross_entropy(head.Logits(f), y),
                new TrainingSettings(Steps: 60, BatchSize: 32, LearningRate: 3e-3, WeightDecay: 0, Seed: 4, WarmupSteps: 5));

            Assert.True(Loss(trained) < 0.5 * Loss(θ0), $"loss {Loss(θ0):F3} → {Loss(trained):F3}");
            Assert.All(θ0, kv => Assert.True(kv.Value.equal(before[kv.Key]).all().item<bool>(), kv.Key));
            Assert.All(trained.Values, t => Assert.False(t.requires_grad));
        }
        Assert.Equal(start, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Training_is_deterministic_for_a_seed()
    {
        using var scope = NewDisposeScope();
        var images = randint(256, [64, 1, 28, 28], generator: new Generator(1)).to_type(ScalarType.Byte);
        var labels = randint(3, [64], generator: new Generator(2));
        var encoder = new ClipVisionEncoder(Tiny);
        var θ0 = EncoderTraining.Initialize(Tiny, seed: 2);
        var classes = randn([3, 16], generator: new Generator(5));
        var settings = new TrainingSettings(5, 8, 1e-3, 0.1, Seed: 9);
        Tensor Loss(Tensor f, Tensor y) => EncoderTraining.CosineCrossEntropy(f, classes, tensor(10f), y);
        var a = EncoderTraining.Train(encoder, θ0, images, labels, Loss, settings);
        var b = EncoderTraining.Train(encoder, θ0, images, labels, Loss, settings);
        var c = EncoderTraining.Train(encoder, θ0, images, labels, Loss, settings with { Seed = 10 });
        Assert.All(a, kv => Assert.True(kv.Value.equal(b[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Contains(a, kv => !kv.Value.equal(c[kv.Key]).all().item<bool>());
    }
}
