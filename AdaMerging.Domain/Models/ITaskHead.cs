using static TorchSharp.torch;

namespace AdaMerging.Domain.Models;

/// <summary>
/// What a task reads off the model's last stage: its predictive distributions, one row per prediction the task
/// counts — a classifier's one per example (<see cref="ClassificationHead"/>), a language model's one per prompt token
/// (<see cref="LanguageModelHead"/>). AdaMerging's objectives are taken over these rows (docs/algorithm.md, "Objectives").
/// </summary>
public interface ITaskHead : IDisposable
{
    /// <summary>log p [N, C] in the dtype the head computes in, with a graph to <paramref name="output"/> and to any parameter of θ the head reads.</summary>
    /// <param name="parameters">The bound parameters the model ran on (a language model's output matrix is one of them).</param>
    /// <param name="output">The model's last stage.</param>
    /// <param name="input">The model's input (a token batch says which positions count).</param>
    Tensor LogProbabilities(IReadOnlyDictionary<string, Tensor> parameters, Tensor output, Tensor input);
}
