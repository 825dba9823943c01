using System.Diagnostics;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// θ = θ0 + λ Σk (θk − θ0), streamed one tensor at a time so memory holds K + 2 tensors, never K + 1 models.
/// Floating tensors are computed in float32 (float64 if stored so) and written back in the base's dtype;
/// integer and bool tensors are copied from the base.
/// </summary>
public static class TaskArithmetic
{
    public static MergeResult Merge(string basePath, IReadOnlyList<string> taskPaths, double lambda, string outputPath,
        torch.Device device, CancellationToken cancellationToken = default)
    {
        using var baseFile = SafetensorsFile.Open(basePath);
        var tasks = new List<ITensorSource>();
        try
        {
            foreach (var path in taskPaths) tasks.Add(SafetensorsFile.Open(path));
            return Merge(baseFile, tasks, lambda, outputPath, device, cancellationToken);
        }
        finally
        {
            tasks.ForEach(t => t.Dispose());
        }
    }

    public static MergeResult Merge(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, double lambda, string outputPath,
        torch.Device device, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(tasks.Count);
        if (!double.IsFinite(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), "λ must be a finite number");
        var clock = Stopwatch.StartNew();
        EnsureCompatible(theta0, tasks);
        var layout = theta0.Tensors.Select(t => (t.Name, t.DType, t.Shape)).ToList();
        using var writer = new SafetensorsWriter(outputPath, layout);
        int merged = 0, copied = 0;
        using (torch.no_grad())
        {
            foreach (var entry in theta0.Tensors)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = torch.NewDisposeScope();
                if (entry.DType.IsFloatingPoint)
                {
                    writer.Write(entry.Name, MergeTensor(entry, theta0, tasks, lambda, device));
                    merged++;
                }
                else
                {
                    writer.Write(entry.Name, theta0.Read(entry.Name));
                    copied++;
                }
            }
        }
        writer.Commit();
        return new MergeResult(merged, copied, theta0.Tensors.Sum(t => t.ElementCount), clock.Elapsed);
    }

    private static torch.Tensor MergeTensor(TensorInfo entry, ITensorSource theta0, IReadOnlyList<ITensorSource> tasks,
        double lambda, torch.Device device)
    {
        var storedType = entry.DType.TorchType!.Value;
        var computeType = storedType == torch.ScalarType.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        var baseTensor = theta0.Read(entry.Name, computeType).to(device);
        var sum = torch.zeros_like(baseTensor);
        foreach (var task in tasks)
        {
            using var thetaK = task.Read(entry.Name, computeType).to(device);
            sum.add_(thetaK).sub_(baseTensor);
        }
        return baseTensor.add_(sum, lambda).to_type(storedType).cpu();
    }

    private static void EnsureCompatible(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks)
    {
        var problems = tasks.SelectMany((t, i) => CheckpointCompatibility.Differences(theta0, $"task {i + 1}", t)).ToList();
        if (problems.Count > 0) throw new IncompatibleCheckpointsException(problems);
    }
}
