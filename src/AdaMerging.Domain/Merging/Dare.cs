using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>DARE (Yu et al., 2024): drop each entry of τk with probability p, rescale the rest by 1/(1 − p). Seeded.</summary>
public static class Dare
{
    public static List<Dictionary<string, Tensor>> Apply(TaskVectors vectors, double dropRate, long seed)
    {
        if (dropRate is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropRate), "the drop rate must be in [0, 1)");
        using var _ = no_grad();
        var generator = new TorchSharp.torch.Generator((ulong)seed, vectors.Theta0.Values.First().device);
        return vectors.Tau.Select(tau => vectors.Names.ToDictionary(p => p, p =>
        {
            var keep = rand(tau[p].shape, generator: generator, dtype: tau[p].dtype, device: tau[p].device).ge(dropRate);
            return tau[p] * keep / (1 - dropRate);
        })).ToList();
    }
}
