using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging.Streaming;

/// <summary>Rows [<see cref="FirstRow"/>, + <see cref="Rows"/>) of a merged tensor along its first dimension: all of it when <see cref="Whole"/>.</summary>
/// <param name="Shape">The piece's own shape (the tensor's, with <see cref="Rows"/> first).</param>
public sealed record TensorPiece(string Tensor, long FirstRow, long Rows, IReadOnlyList<long> Shape, bool Whole)
{
    /// <summary>The tensor's name for a whole one, else the name with the rows (what the stretch's task vectors call it).</summary>
    public string Key => Whole ? Tensor : $"{Tensor}[{FirstRow}:{FirstRow + Rows}]";

    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The merged tensors cut into stretches, in the base's order, each holding at most a given number of elements
/// (docs/algorithm.md, "Streamed merges"): a tensor larger than that is cut into row ranges where the method merges
/// entry by entry, and stands alone in its stretch where it needs the whole matrix (the spectral merges).
/// </summary>
public static class Stretches
{
    public static List<List<TensorPiece>> Plan(ITensorCatalog theta0, IReadOnlyList<string> merged, long elementsPerStretch, bool cutTensors)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(elementsPerStretch, 1);
        var stretches = new List<List<TensorPiece>>();
        var current = new List<TensorPiece>();
        long filled = 0;
        void Add(TensorPiece piece)
        {
            if (current.Count > 0 && filled + piece.Elements > elementsPerStretch)
            {
                stretches.Add(current);
                (current, filled) = ([], 0);
            }
            current.Add(piece);
            filled += piece.Elements;
        }
        foreach (var name in merged)
        {
            var shape = theta0.Find(name)!.Shape;
            long elements = shape.Aggregate(1L, (a, b) => a * b);
            if (!cutTensors || shape.Count == 0 || elements <= elementsPerStretch)
            {
                Add(new TensorPiece(name, 0, shape.Count == 0 ? 1 : shape[0], shape, Whole: true));
                continue;
            }
            long rowElements = Math.Max(1, elements / Math.Max(1, shape[0]));
            long rowsPerPiece = Math.Max(1, elementsPerStretch / rowElements);
            for (long first = 0; first < shape[0]; first += rowsPerPiece)
            {
                long rows = Math.Min(rowsPerPiece, shape[0] - first);
                Add(new TensorPiece(name, first, rows, [rows, .. shape.Skip(1)], Whole: rows == shape[0]));
            }
        }
        if (current.Count > 0) stretches.Add(current);
        return stretches;
    }
}
