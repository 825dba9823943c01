using TorchSharp;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>DARE (Yu et al., 2024): drop each entry of τk with probability p, rescale the rest by 1/(1 − p). Seeded.</summary>
public static class Dare
{
    /// <summary>The dropped vectors over the same base (disposing the result frees only them), tensor by tensor.</summary>
    public static TaskVectors Apply(TaskVectors vectors, double dropRate, long seed)
    {
        using var generator = new Generator((ulong)seed, vectors.Device);
        return Apply(vectors, dropRate, _ => generator);
    }

    /// <summary>As above, task k's masks drawn from <paramref name="generatorOf"/>(k) (a streamed merge's own generator per task).</summary>
    public static TaskVectors Apply(TaskVectors vectors, double dropRate, Func<int, Generator> generatorOf)
    {
        if (dropRate is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(dropRate), "the drop rate must be in [0, 1)");
        using var _ = no_grad();
        using var dropAt = dropRate.ToScalar();   // held through the calls (RootedScalars says why)
        var result = vectors.WithPacked(empty([vectors.TaskCount, vectors.ParameterCount], dtype: vectors.DType, device: vectors.Device));
        // Task by task, tensor by tensor: the order the masks are drawn in is part of what a seed means.
        for (int k = 0; k < vectors.TaskCount; k++)
            for (int i = 0; i < vectors.Names.Count; i++)
            {
                using var scope = NewDisposeScope();
                var tau = vectors.Slice(vectors.TaskRow(k), i);
                var keep = rand(tau.shape, generator: generatorOf(k), dtype: tau.dtype, device: tau.device).ge(dropAt);
                result.Slice(result.TaskRow(k), i).copy_((tau * keep).DividedBy(1 - dropRate));
            }
        return result;
    }
}
