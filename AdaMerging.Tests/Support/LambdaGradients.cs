using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support;

/// <summary>The check every architecture's AdaMerging test makes: the run's λ gradient against autograd through ordinary weights.</summary>
public static class LambdaGradients
{
    /// <summary>
    /// Asserts <paramref name="fromRun"/> (∂L/∂λ at λ = 0.3, [rows, K]) equals autograd's ∂L/∂θ through ordinary leaf
    /// weights θ = θ0 + 0.3 Σ τk, summed over each row's tensors and contracted with τk, to 1e-9 (float64). Returns θ
    /// with its gradients for what a test checks besides.
    /// </summary>
    public static Dictionary<string, Tensor> AssertEqualsAutograd(IFeatureStages model, TaskVectors vectors, LayerMap layers,
        IReadOnlyList<AdaMergingTask> tasks, IReadOnlyList<long[]> batches, Tensor fromRun)
    {
        var θ = vectors.Combine((_, _) => tensor(0.3, dtype: ScalarType.Float64)).ToDictionary(kv => kv.Key, kv => kv.Value.detach().requires_grad_(true));
        var loss = zeros(1, dtype: ScalarType.Float64);
        for (int k = 0; k < tasks.Count; k++)
        {
            var input = tasks[k].Adaptation.Read(batches[k], CPU);
            loss = loss.Plus(Objectives.Entropy(tasks[k].Head.LogProbabilities(model.Bind(θ), model.Features(θ, input), input)));
        }
        loss.backward();
        var tau = Enumerable.Range(0, tasks.Count).Select(k => vectors.Views(vectors.TaskRow(k))).ToList();
        for (int row = 0; row < layers.Rows; row++)
            for (int k = 0; k < tasks.Count; k++)
            {
                double autograd = vectors.Names.Where(p => layers.RowOf(p) == row).Sum(p => (θ[p].grad! * tau[k][p]).sum().item<double>());
                double chain = fromRun[row, k].item<double>();
                Assert.True(Math.Abs(chain - autograd) <= 1e-9 * Math.Max(1, Math.Abs(autograd)), $"{layers.RowNames[row]}, task {k}: chain rule {chain}, autograd {autograd}");
            }
        return θ;
    }
}
