using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Checkpoints;

/// <summary>Finds floating tensors holding NaN or ±Inf: accepted, but reported, since a merge would spread them.</summary>
public static class NonFiniteScan
{
    public static IReadOnlyList<string> Find(ITensorSource source, int limit = 20)
    {
        var found = new List<string>();
        using var _ = torch.no_grad();
        foreach (var t in source.Tensors.Where(t => t.DType.IsFloatingPoint && t.DType.TorchType is not null))
        {
            using var scope = torch.NewDisposeScope();
            var count = source.Read(t.Name).isfinite().logical_not().sum().item<long>();
            if (count > 0) found.Add($"{t.Name}: {count} non-finite value(s)");
            if (found.Count >= limit) break;
        }
        return found;
    }
}
