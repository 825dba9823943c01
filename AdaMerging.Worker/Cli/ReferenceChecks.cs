using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Diagnostics;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using AdaMerging.Domain.Methods;
using static TorchSharp.torch;

namespace AdaMerging.Worker.Cli;

/// <summary>
/// The forward passes on a device against what real PyTorch computed for the committed fixtures, and the AdaMerging
/// objective's λ gradient on the device against the CPU's.
/// </summary>
public static class ReferenceChecks
{
    public static IEnumerable<CheckResult> Run(string fixtures, Device device, DeviceTolerances tolerances)
    {
        foreach (var architecture in ModelArchitectures.All.OfType<IReferenceChecked>())
            foreach (var (name, difference) in architecture.ReferenceChecks(fixtures, device))
                yield return new CheckResult(name, difference, tolerances.Reference, "largest relative difference");
        yield return LambdaGradient(device, tolerances.Gradient);
    }

    /// <summary>∂L/∂λ (layer-wise, 3 tasks, fixed batches) of the small benchmark shape on the device against the CPU.</summary>
    private static CheckResult LambdaGradient(Device device, double tolerance)
    {
        var onCpu = Gradient(CPU);
        var onDevice = Gradient(device);
        return new CheckResult("AdaMerging λ gradient against the CPU", ReferenceDifference.Relative(onCpu, onDevice), tolerance, "largest relative difference");
    }

    private static Tensor Gradient(Device device)
    {
        using var scope = NewDisposeScope();
        using var problem = RandomProblems.Of("small").Random("small", 3, 4, ScalarType.Float32, device);
        using var run = new AdaMergingRun(problem.Model, new Dictionary<string, Tensor>(), problem.Vectors,
            LayerMap.Create(problem.Vectors.Names, Granularity.Layer, LayerUnit.Tensor), problem.Tasks, new AdaMergingSettings { Steps = 1, BatchSize = 4 });
        using var lambda = ScalarMath.Filled([run.Layers.Rows, 3], 0.3, ScalarType.Float32, device);
        long[] batch = [0, 3, 5, 7];
        var (_, gradient) = run.ObjectiveAndGradient(lambda, [batch, batch, batch]);
        return gradient.cpu().MoveToOuterDisposeScope();
    }
}
