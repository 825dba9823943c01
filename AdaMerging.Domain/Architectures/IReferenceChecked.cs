using static TorchSharp.torch;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// An architecture whose forward passes have committed PyTorch reference fixtures (tools/): what a new worker host
/// checks on each of its devices (the worker's check-device, docs/deployment.md, "Checking a host").
/// </summary>
public interface IReferenceChecked
{
    /// <summary>Each comparison's name and its largest difference relative to the largest reference value (NaN when the shapes differ).</summary>
    /// <param name="fixtures">The folder holding the fixtures (the test project's Fixtures, or the worker image's copy).</param>
    IEnumerable<(string Name, double Difference)> ReferenceChecks(string fixtures, Device device);
}

public static class ReferenceDifference
{
    /// <summary>max |expected − actual| / max |expected|, computed on the CPU.</summary>
    public static double Relative(Tensor expected, Tensor actual)
    {
        using var scope = NewDisposeScope();
        if (!expected.shape.SequenceEqual(actual.shape)) return double.NaN;
        var e = expected.cpu().to_type(ScalarType.Float64);
        var a = actual.cpu().to_type(ScalarType.Float64);
        var largest = e.abs().max().item<double>();
        var difference = (e - a).abs().max().item<double>();
        return difference == 0 ? 0 : difference / largest;
    }
}
