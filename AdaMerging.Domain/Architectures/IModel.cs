using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// A runnable model as a function of its parameters, outputs = f(θ, x), in stages (<see cref="IFeatureStages"/>:
/// for checkpointing and the task-by-task backward). Parameters are given in the checkpoint's own names; the model
/// binds them to the names its stages read.
/// </summary>
public interface IModel : IFeatureStages, IDisposable
{
    /// <summary>
    /// The same model, telling <paramref name="linearInputs"/> each observed linear layer's name (without ".weight")
    /// and input before it is applied (RegMean's Gram matrices). The observed model shares this one's binding and
    /// needs no disposal of its own beyond this one's.
    /// </summary>
    IModel Observed(Action<string, Tensor> linearInputs);
}
