namespace AdaMerging.Domain.Methods;

/// <summary>What one coefficient covers: a whole task vector, or one layer of it.</summary>
public enum Granularity
{
    Task,
    Layer,
}

/// <summary>With layer granularity, what a layer is: one tensor (the paper's), or one transformer block.</summary>
public enum LayerUnit
{
    Tensor,
    Block,
}

/// <summary>
/// Which row of λ each merged tensor uses. Task-wise: one row. Layer-wise `tensor` (the paper's): one row per
/// tensor, except that a tensor may share another's (a batch norm's running statistics follow its weight,
/// <see cref="Architectures.ModelSpec.SharesCoefficientWith"/>). Layer-wise `block`: one row per block of the model (its architecture says which tensor is in which,
/// <see cref="Architectures.ModelSpec.BlockOf"/>), one for everything before the blocks (embeddings), one for
/// everything after (final norm, projection).
/// </summary>
public sealed class LayerMap
{
    private readonly Dictionary<string, int> _rowOf;

    private LayerMap(IReadOnlyList<string> rowNames, Dictionary<string, int> rowOf)
    {
        RowNames = rowNames;
        _rowOf = rowOf;
    }

    public IReadOnlyList<string> RowNames { get; }

    public int Rows => RowNames.Count;

    public int RowOf(string tensor) => _rowOf[tensor];

    /// <summary>No block structure known (a checkpoint no architecture recognises): every tensor sits before the blocks.</summary>
    public static int? NoBlocks(string tensor) => null;

    /// <summary>Every tensor has a row of its own.</summary>
    public static string? OwnRow(string tensor) => null;

    /// <param name="block">The block of each tensor, for <see cref="LayerUnit.Block"/> (null outside the blocks); none known when not given.</param>
    /// <param name="sharesWith">The tensor whose row a tensor shares, for <see cref="LayerUnit.Tensor"/> (null: its own); none when not given.</param>
    public static LayerMap Create(IReadOnlyList<string> tensors, Granularity granularity, LayerUnit layerUnit, Func<string, int?>? block = null,
        Func<string, string?>? sharesWith = null) => (granularity, layerUnit) switch
    {
        (Granularity.Task, _) => new LayerMap(["all"], tensors.ToDictionary(t => t, _ => 0, StringComparer.Ordinal)),
        (_, LayerUnit.Tensor) => Tensors(tensors, sharesWith ?? OwnRow),
        _ => Blocks(tensors, block ?? NoBlocks),
    };

    /// <summary>A row per tensor, named by it, but for tensors that share a merged tensor's row.</summary>
    private static LayerMap Tensors(IReadOnlyList<string> tensors, Func<string, string?> sharesWith)
    {
        var merged = tensors.ToHashSet(StringComparer.Ordinal);
        string Leader(string t) => sharesWith(t) is { } other && merged.Contains(other) ? other : t;
        var names = tensors.Where(t => Leader(t) == t).ToList();
        var rowOfLeader = names.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        return new LayerMap(names, tensors.ToDictionary(t => t, t => rowOfLeader[Leader(t)], StringComparer.Ordinal));
    }

    private static LayerMap Blocks(IReadOnlyList<string> tensors, Func<string, int?> block)
    {
        var blockOf = tensors.ToDictionary(t => t, block, StringComparer.Ordinal);
        int blocks = blockOf.Values.Max() is { } max ? max + 1 : 0;
        int firstBlockAt = tensors.ToList().FindIndex(t => blockOf[t] is not null);
        var names = new List<string> { "embeddings" };
        names.AddRange(Enumerable.Range(0, blocks).Select(b => $"block {b}"));
        names.Add("head");
        var rowOf = tensors.Select((t, i) => (t, row: blockOf[t] is { } b ? b + 1 : firstBlockAt >= 0 && i < firstBlockAt ? 0 : blocks + 1))
            .ToDictionary(x => x.t, x => x.row, StringComparer.Ordinal);
        return new LayerMap(names, rowOf);
    }
}
