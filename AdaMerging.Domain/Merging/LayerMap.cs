using System.Text.RegularExpressions;

namespace AdaMerging.Domain.Merging;

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
/// tensor. Layer-wise `block`: one row per transformer block, one for everything before the blocks (embeddings),
/// one for everything after (final norm, projection).
/// </summary>
public sealed partial class LayerMap
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

    public static LayerMap Create(IReadOnlyList<string> tensors, Granularity granularity, LayerUnit layerUnit) => (granularity, layerUnit) switch
    {
        (Granularity.Task, _) => new LayerMap(["all"], tensors.ToDictionary(t => t, _ => 0, StringComparer.Ordinal)),
        (_, LayerUnit.Tensor) => new LayerMap(tensors, tensors.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal)),
        _ => Blocks(tensors),
    };

    private static LayerMap Blocks(IReadOnlyList<string> tensors)
    {
        var blockOf = tensors.ToDictionary(t => t, t => BlockIndex().Match(t) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : (int?)null, StringComparer.Ordinal);
        int blocks = blockOf.Values.Max() is { } max ? max + 1 : 0;
        int firstBlockAt = tensors.ToList().FindIndex(t => blockOf[t] is not null);
        var names = new List<string> { "embeddings" };
        names.AddRange(Enumerable.Range(0, blocks).Select(b => $"block {b}"));
        names.Add("head");
        var rowOf = tensors.Select((t, i) => (t, row: blockOf[t] is { } b ? b + 1 : firstBlockAt >= 0 && i < firstBlockAt ? 0 : blocks + 1))
            .ToDictionary(x => x.t, x => x.row, StringComparer.Ordinal);
        return new LayerMap(names, rowOf);
    }

    [GeneratedRegex(@"(?:encoder\.layers|transformer\.resblocks)\.(\d+)\.")]
    private static partial Regex BlockIndex();
}
