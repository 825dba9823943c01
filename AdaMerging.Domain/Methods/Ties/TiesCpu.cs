using System.Buffers;
using System.Collections.Concurrent;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// TIES for float32 task vectors in the CPU's memory, element by element in C#: the same arithmetic as the tensor path
/// of <see cref="Ties"/> (each element's float32 operations in the same order, so the same bits), in two reads of the
/// task vectors from memory instead of a dozen model-sized tensor operations (docs/algorithm.md, "TIES"): one per task
/// for its trim threshold (<see cref="MagnitudeSelection"/>), one to elect and merge.
/// </summary>
public static class TiesCpu
{
    /// <summary>Entries elected and then merged together: small enough that the K rows stay in the core's cache between the two.</summary>
    private const int Block = 1 << 13;

    /// <summary>Entries a thread takes at a time, through one set of tensor views.</summary>
    private const int Stretch = 1 << 22;

    public static bool Applies(TaskVectors vectors) => vectors.Device.type == TorchSharp.DeviceType.CPU && vectors.DType == ScalarType.Float32;

    /// <summary>Each task's processed vector τ'k (trimmed, then only the entries agreeing with the elected sign) into <paramref name="packed"/> [K, N].</summary>
    public static void Process(TaskVectors vectors, float[] thresholds, Tensor packed) =>
        Electing(vectors, thresholds, null, (start, length) => Enumerable.Range(0, vectors.TaskCount).Select(k => new Window(packed[k], start, length)).ToArray(),
            (tasks, outputs, offset, gamma, majority) =>
            {
                bool undecided = false;
                for (int k = 0; k < tasks.Length; k++)
                    undecided |= Kept(tasks[k].Floats.Slice(offset, gamma.Length), thresholds[k], gamma, majority, outputs[k].Floats.Slice(offset, gamma.Length));
                return undecided;
            });

    /// <summary>
    /// θ0 + λ · merge(τ') into <paramref name="merged"/> [N]: the sum of the agreeing entries, or their mean. The
    /// majority sign is counted over these vectors unless given (a streamed merge counts it over the whole model first).
    /// </summary>
    public static void Apply(TaskVectors vectors, float[] thresholds, TiesMerge merge, double lambda, Tensor merged, float? majority = null) =>
        Electing(vectors, thresholds, majority, (start, length) => [new Window(vectors.BaseFlat(), start, length), new Window(merged.view(-1), start, length)],
            (tasks, outputs, offset, gamma, majority) =>
            {
                var pool = ArrayPool<float>.Shared;
                float[] keptArray = pool.Rent(gamma.Length), sumArray = pool.Rent(gamma.Length), countArray = pool.Rent(gamma.Length);
                Span<float> kept = keptArray.AsSpan(0, gamma.Length), sum = sumArray.AsSpan(0, gamma.Length), count = countArray.AsSpan(0, gamma.Length);
                count.Clear();
                bool undecided = false;
                for (int k = 0; k < tasks.Length; k++)
                {
                    undecided |= Kept(tasks[k].Floats.Slice(offset, gamma.Length), thresholds[k], gamma, majority, kept);
                    Accumulate(kept, sum, count, first: k == 0);
                }
                Finish(outputs[0].Floats.Slice(offset, gamma.Length), sum, count, merge == TiesMerge.Mean, (float)lambda, outputs[1].Floats.Slice(offset, gamma.Length));
                pool.Return(keptArray);
                pool.Return(sumArray);
                pool.Return(countArray);
                return undecided;
            });

    /// <summary>As many threads as the engine is given (the worker sets it per device slot), never the whole machine.</summary>
    internal static ParallelOptions Options => new() { MaxDegreeOfParallelism = Math.Max(1, get_num_threads()) };

    /// <summary>Writes one block: given the stretch's task rows and outputs, the block's offset in them, γ and the majority sign; true if the majority decided a non-zero entry.</summary>
    private delegate bool BlockWriter(Window[] tasks, Window[] outputs, int offset, ReadOnlySpan<float> gamma, float majority);

    /// <summary>
    /// Calls <paramref name="write"/> for every block with γ, the sign of the trimmed sum (0 where it is 0), and a
    /// majority sign of +1, counting the elected signs as it goes. The majority is known only once every block is done,
    /// so in the rare case it is −1, the blocks where it decided a non-zero entry alone are written again: one read of
    /// the vectors instead of two.
    /// </summary>
    private static void Electing(TaskVectors vectors, float[] thresholds, float? knownMajority, Func<long, int, Window[]> openOutputs, BlockWriter write)
    {
        long n = vectors.ParameterCount, elected = 0;
        var gate = new object();
        var undecided = new ConcurrentQueue<long>();
        long Run(long start, int length, float majority, bool all)
        {
            var tasks = Enumerable.Range(0, vectors.TaskCount).Select(k => new Window(vectors.TaskRow(k), start, length)).ToArray();
            var outputs = openOutputs(start, length);
            var gammaArray = ArrayPool<float>.Shared.Rent(Block);
            long signs = 0;
            for (int offset = 0; offset < length; offset += Block)
            {
                var gamma = gammaArray.AsSpan(0, Math.Min(Block, length - offset));
                signs += Signs(tasks, thresholds, offset, gamma);
                if (write(tasks, outputs, offset, gamma, majority) && all) undecided.Enqueue(start + offset);
            }
            ArrayPool<float>.Shared.Return(gammaArray);
            foreach (var w in tasks.Concat(outputs)) w.Dispose();
            return signs;
        }
        Parallel.For(0, (n + Stretch - 1) / Stretch, Options, () => 0L,
            (s, _, local) => local + Run(s * Stretch, (int)Math.Min(Stretch, n - s * Stretch), knownMajority ?? 1f, knownMajority is null),
            local => { lock (gate) elected += local; });
        if (knownMajority is null && elected < 0) Parallel.ForEach(undecided, Options, start => Run(start, (int)Math.Min(Block, n - start), -1f, false));
    }

    /// <summary>Σ γ over these vectors, γ = sign(Σk trimmed τk): what decides the majority sign (a streamed merge adds it over its stretches).</summary>
    public static long ElectedSum(TaskVectors vectors, float[] thresholds)
    {
        long n = vectors.ParameterCount, elected = 0;
        var gate = new object();
        Parallel.For(0, (n + Stretch - 1) / Stretch, Options, () => 0L, (s, _, local) =>
        {
            (long start, int length) = (s * Stretch, (int)Math.Min(Stretch, n - s * Stretch));
            var tasks = Enumerable.Range(0, vectors.TaskCount).Select(k => new Window(vectors.TaskRow(k), start, length)).ToArray();
            var gamma = ArrayPool<float>.Shared.Rent(Block);
            for (int offset = 0; offset < length; offset += Block) local += Signs(tasks, thresholds, offset, gamma.AsSpan(0, Math.Min(Block, length - offset)));
            ArrayPool<float>.Shared.Return(gamma);
            foreach (var w in tasks) w.Dispose();
            return local;
        }, local => { lock (gate) elected += local; });
        return elected;
    }

    // The loops below are written with System.Numerics vectors and selections instead of branches: on random signs
    // and a 20 % trim, branches mispredict about every other entry, which made the scalar loops 5 × slower than the
    // memory they read. Each lane does exactly the scalar float32 operations (x · 1 or x · 0, adds in task order), and
    // the scalar tail the same, so the bits do not change.
    private static readonly int Lanes = Vector<float>.Count;

    /// <summary>γ = sign(Σk trimmed τk) for one block, the sum added in task order as the tensor path adds it; returns Σ γ.</summary>
    private static long Signs(Window[] tasks, float[] thresholds, int offset, Span<float> gamma)
    {
        for (int k = 0; k < tasks.Length; k++)
        {
            ReadOnlySpan<float> tau = tasks[k].Floats.Slice(offset, gamma.Length);
            float threshold = thresholds[k];
            var limit = new Vector<float>(threshold);
            int j = 0;
            for (; j <= gamma.Length - Lanes; j += Lanes)
            {
                var trimmed = Trim(new Vector<float>(tau.Slice(j)), limit);
                (k == 0 ? trimmed : new Vector<float>(gamma.Slice(j)) + trimmed).CopyTo(gamma.Slice(j));
            }
            for (; j < gamma.Length; j++) gamma[j] = k == 0 ? Trim(tau[j], threshold) : gamma[j] + Trim(tau[j], threshold);
        }
        var total = Vector<float>.Zero;
        int i = 0;
        for (; i <= gamma.Length - Lanes; i += Lanes)
        {
            var sign = Sign(new Vector<float>(gamma.Slice(i)));
            sign.CopyTo(gamma.Slice(i));
            total += sign;   // at most Block / Lanes per lane: exact in float32
        }
        long sum = (long)Vector.Sum(total);
        for (; i < gamma.Length; i++)
        {
            gamma[i] = Sign(gamma[i]);
            sum += (long)gamma[i];
        }
        return sum;
    }

    /// <summary>τ'k of one block: the trimmed entries whose sign is γ's (the majority's where γ is 0); true if the majority decided a non-zero entry.</summary>
    private static bool Kept(ReadOnlySpan<float> tau, float threshold, ReadOnlySpan<float> gamma, float majority, Span<float> kept)
    {
        var limit = new Vector<float>(threshold);
        var byMajority = new Vector<float>(majority);
        var undecided = Vector<int>.Zero;
        int j = 0;
        for (; j <= kept.Length - Lanes; j += Lanes)
        {
            var trimmed = Trim(new Vector<float>(tau.Slice(j)), limit);
            var g = new Vector<float>(gamma.Slice(j));
            var unelected = Vector.Equals(g, Vector<float>.Zero);
            undecided |= unelected & ~Vector.Equals(trimmed, Vector<float>.Zero);
            var elected = Vector.ConditionalSelect(unelected, byMajority, g);
            (trimmed * Vector.ConditionalSelect(Vector.Equals(Sign(trimmed), elected), Vector<float>.One, Vector<float>.Zero)).CopyTo(kept.Slice(j));
        }
        bool any = undecided != Vector<int>.Zero;
        for (; j < kept.Length; j++)
        {
            float trimmed = Trim(tau[j], threshold), g = gamma[j];
            any |= g == 0 && trimmed != 0;
            kept[j] = Agreeing(trimmed, g == 0 ? majority : g);
        }
        return any;
    }

    /// <summary>The sum over tasks in task order (the first task's entries copied, as the tensor path's clone) and the count of non-zero entries.</summary>
    private static void Accumulate(ReadOnlySpan<float> kept, Span<float> sum, Span<float> count, bool first)
    {
        int j = 0;
        for (; j <= kept.Length - Lanes; j += Lanes)
        {
            var k = new Vector<float>(kept.Slice(j));
            (first ? k : new Vector<float>(sum.Slice(j)) + k).CopyTo(sum.Slice(j));
            (new Vector<float>(count.Slice(j)) + Vector.ConditionalSelect(Vector.Equals(k, Vector<float>.Zero), Vector<float>.Zero, Vector<float>.One)).CopyTo(count.Slice(j));
        }
        for (; j < kept.Length; j++)
        {
            sum[j] = first ? kept[j] : sum[j] + kept[j];
            count[j] += kept[j] != 0 ? 1f : 0f;
        }
    }

    /// <summary>θ0 + λ · (the sum, or the sum over the count of agreeing tasks, at least 1).</summary>
    private static void Finish(ReadOnlySpan<float> theta0, ReadOnlySpan<float> sum, ReadOnlySpan<float> count, bool mean, float lambda, Span<float> merged)
    {
        var scale = new Vector<float>(lambda);
        int j = 0;
        for (; j <= merged.Length - Lanes; j += Lanes)
        {
            var s = new Vector<float>(sum.Slice(j));
            var combined = mean ? s / Vector.Max(new Vector<float>(count.Slice(j)), Vector<float>.One) : s;
            (new Vector<float>(theta0.Slice(j)) + scale * combined).CopyTo(merged.Slice(j));
        }
        for (; j < merged.Length; j++) merged[j] = theta0[j] + lambda * (mean ? sum[j] / Math.Max(count[j], 1f) : sum[j]);
    }

    /// <summary>τ · [|τ| ≥ threshold], as the tensor path's multiplication by the mask (a dropped negative entry is −0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Trim(float tau, float threshold) => tau * (MathF.Abs(tau) >= threshold ? 1f : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Trim(Vector<float> tau, Vector<float> threshold) =>
        tau * Vector.ConditionalSelect(Vector.GreaterThanOrEqual(Vector.Abs(tau), threshold), Vector<float>.One, Vector<float>.Zero);

    /// <summary>The entry times [its sign is the elected one].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Agreeing(float trimmed, float gamma) => trimmed * (Sign(trimmed) == gamma ? 1f : 0f);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sign(float x) => x > 0 ? 1f : x < 0 ? -1f : 0f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<float> Sign(Vector<float> x) =>
        Vector.ConditionalSelect(Vector.GreaterThan(x, Vector<float>.Zero), Vector<float>.One,
            Vector.ConditionalSelect(Vector.LessThan(x, Vector<float>.Zero), -Vector<float>.One, Vector<float>.Zero));

    /// <summary>[start, start + length) of a flat float32 tensor in the CPU's memory, read and written in place; disposes the tensor with it.</summary>
    private sealed class Window(Tensor flat, long start, int length) : IDisposable
    {
        private readonly Tensor _part = flat.narrow(0, start, length);

        public Span<float> Floats => MemoryMarshal.Cast<byte, float>(_part.bytes);

        public void Dispose()
        {
            _part.Dispose();
            flat.Dispose();
        }
    }
}
