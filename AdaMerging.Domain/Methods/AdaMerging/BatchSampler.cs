namespace AdaMerging.Domain.Methods;

/// <summary>
/// Batches drawn without replacement from a seeded shuffle, reshuffled when exhausted. Its whole state is three
/// plain values, so a run can be saved and resumed bit for bit.
/// </summary>
public sealed class BatchSampler
{
    private readonly int _count;
    private int[] _order;
    private int _position;
    private ulong _rng;

    public BatchSampler(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _count = count;
        _rng = seed;
        _order = Shuffle();
    }

    private BatchSampler(SamplerState state)
    {
        _count = state.Order.Length;
        _order = [.. state.Order];
        _position = state.Position;
        _rng = state.Rng;
    }

    public static BatchSampler Restore(SamplerState state) => new(state);

    public SamplerState State => new([.. _order], _position, _rng);

    public long[] Next(int batchSize)
    {
        var batch = new long[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            if (_position == _count)
            {
                _order = Shuffle();
                _position = 0;
            }
            batch[i] = _order[_position++];
        }
        return batch;
    }

    private int[] Shuffle()
    {
        var order = Enumerable.Range(0, _count).ToArray();
        for (int i = _count - 1; i > 0; i--)
        {
            int j = (int)(NextRandom() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>SplitMix64: tiny, fast, and its state is one number.</summary>
    private ulong NextRandom()
    {
        ulong z = _rng += 0x9E3779B97F4A7C15ul;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ul;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBul;
        return z ^ (z >> 31);
    }
}

public sealed record SamplerState(int[] Order, int Position, ulong Rng);
