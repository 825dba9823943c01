using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Text;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace AdaMerging.Benchmark.Text;

/// <summary>Fine-tuning a text encoder: AdamW, a linear warm-up over 10 % of the steps, then linear decay to zero (BERT's recipe).</summary>
public sealed record TextTrainingSettings(int Steps, int BatchSize, double LearningRate, double WeightDecay, int Seed);

/// <summary>
/// The service's text encoder (the same <see cref="IModel"/> the service merges with: BERT layers, mean pooling for
/// MiniLM) trained with autograd here: features of many texts, and every encoder weight fine-tuned with a task's
/// linear head frozen, as the paper fine-tunes with frozen heads. Texts are tokenised once by the model's tokenizer,
/// cut to the same maximum length the service's merges use.
/// </summary>
public sealed class TextTraining(IModel model, ITextTokenizer tokenizer, int maxTokens)
{
    /// <summary>Token ids of each text, with the special tokens, cut to the maximum length.</summary>
    public int[][] Encode(IReadOnlyList<string> texts) => [.. texts.Select(t => tokenizer.Encode(t, maxTokens))];

    /// <summary>Features of many texts, in batches of similar length (sorted, so little padding), without gradients, in the texts' order.</summary>
    public Tensor Features(IReadOnlyDictionary<string, Tensor> θ, int[][] ids, int batchSize = 128)
    {
        using var _ = no_grad();
        var order = Enumerable.Range(0, ids.Length).OrderBy(i => ids[i].Length).ToArray();
        var parts = order.Chunk(batchSize).Select(chunk =>
        {
            using var scope = NewDisposeScope();
            return model.Features(θ, TokenBatch.Pack([.. chunk.Select(i => ids[i])], tokenizer.PaddingId)).MoveToOuterDisposeScope();
        }).ToList();
        using var sorted = cat(parts);
        foreach (var p in parts) p.Dispose();
        var inverse = new long[order.Length];
        for (int i = 0; i < order.Length; i++) inverse[order[i]] = i;
        return sorted.index(tensor(inverse));
    }

    /// <summary>Every encoder weight of <paramref name="start"/> fine-tuned on the texts through the frozen <paramref name="head"/>; new tensors.</summary>
    public Dictionary<string, Tensor> FineTune(IReadOnlyDictionary<string, Tensor> start, LinearHead head, int[][] ids, long[] labels,
        TextTrainingSettings s, Action<int, double> progress)
    {
        var θ = start.ToDictionary(kv => kv.Key, kv => new Parameter(kv.Value.detach().clone(), requires_grad: kv.Value.is_floating_point()));
        var trainable = θ.Values.Where(p => p.requires_grad).ToList();
        using var optimizer = optim.AdamW(trainable, lr: s.LearningRate, weight_decay: s.WeightDecay);
        var views = θ.ToDictionary(kv => kv.Key, kv => (Tensor)kv.Value);
        var random = new Random(s.Seed);
        int warmup = Math.Max(1, s.Steps / 10);
        using (enable_grad())
            for (int step = 0; step < s.Steps; step++)
            {
                using var scope = NewDisposeScope();
                foreach (var group in optimizer.ParamGroups)
                    group.LearningRate = step < warmup ? s.LearningRate * (step + 1) / warmup : s.LearningRate * (s.Steps - step) / (s.Steps - warmup);
                var batch = Enumerable.Range(0, s.BatchSize).Select(_ => random.Next(ids.Length)).ToArray();
                var features = model.Features(views, TokenBatch.Pack([.. batch.Select(i => ids[i])], tokenizer.PaddingId));
                var loss = F.cross_entropy(head.Logits(features), tensor(batch.Select(i => labels[i]).ToArray()));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                if (step % 50 == 0 || step == s.Steps - 1) progress(step, loss.item<float>());
            }
        var trained = θ.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        foreach (var p in θ.Values) p.Dispose();
        return trained;
    }
}
