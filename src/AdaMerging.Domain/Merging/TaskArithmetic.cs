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
        ArgumentOutOfRangeException.ThrowIfZero(taskPaths.Count);
        if (!double.IsFinite(lambda)) throw new ArgumentOutOfRangeException(nameof(lambda), "λ must be a finite number");
        var clock = Stopwatch.StartNew();
        using var baseFile = SafetensorsFile.Open(basePath);
        var tasks = taskPaths.Select(SafetensorsFile.Open).ToList();
        try
        {
            EnsureCompatible(baseFile, tasks);
            var layout = baseFile.Header.Tensors.Select(t => (t.Name, t.DType, t.Shape)).ToList();
            using var writer = new SafetensorsWriter(outputPath, layout);
            int merged = 0, copied = 0;
            using (torch.no_grad())
            {
                foreach (var entry in baseFile.Header.Tensors)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    using var scope = torch.NewDisposeScope();
                    if (entry.DType.IsFloatingPoint)
                    {
                        writer.Write(entry.Name, MergeTensor(entry, baseFile, tasks, lambda, device));
                        merged++;
                    }
                    else
                    {
                        writer.Write(entry.Name, baseFile.Read(entry.Name));
                        copied++;
                    }
                }
            }
            writer.Commit();
            return new MergeResult(merged, copied, baseFile.Header.ParameterCount, clock.Elapsed);
        }
        finally
        {
            tasks.ForEach(t => t.Dispose());
        }
    }

    private static torch.Tensor MergeTensor(TensorEntry entry, SafetensorsFile baseFile, List<SafetensorsFile> tasks,
        double lambda, torch.Device device)
    {
        var storedType = entry.DType.TorchType!.Value;
        var computeType = storedType == torch.ScalarType.Float64 ? torch.ScalarType.Float64 : torch.ScalarType.Float32;
        var theta0 = baseFile.Read(entry.Name, computeType).to(device);
        var sum = torch.zeros_like(theta0);
        foreach (var task in tasks)
        {
            using var thetaK = task.Read(entry.Name, computeType).to(device);
            sum.add_(thetaK).sub_(theta0);
        }
        return theta0.add_(sum, lambda).to_type(storedType).cpu();
    }

    private static void EnsureCompatible(SafetensorsFile baseFile, List<SafetensorsFile> tasks)
    {
        var problems = tasks
            .SelectMany((t, i) => CheckpointCompatibility.Differences(baseFile.Header, $"task {i + 1}", t.Header))
            .ToList();
        if (problems.Count > 0) throw new IncompatibleCheckpointsException(problems);
    }
}
