using AdaMerging.Domain.Merging.Streaming;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

public sealed partial class TaskVectors
{
    /// <summary>
    /// θ0 and τ of one stretch's pieces on the CPU in float32 (or float64), named by their keys, computed as
    /// <see cref="Load"/> computes them (θk read in that dtype, τk = θk − θ0 in place): a streamed merge's stretch of
    /// the model (docs/algorithm.md, "Streamed merges").
    /// </summary>
    public static TaskVectors LoadPieces(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, IReadOnlyList<TensorPiece> pieces, ScalarType dtype,
        CancellationToken ct = default)
    {
        long n = pieces.Sum(p => p.Elements);
        var vectors = new TaskVectors([.. pieces.Select(p => p.Key)], [.. pieces.Select(p => p.Shape.ToArray())],
            empty(n, dtype: dtype), empty([tasks.Count, n], dtype: dtype));
        try
        {
            using var _ = no_grad();
            for (int i = 0; i < pieces.Count; i++)
            {
                ct.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var base0 = vectors.BaseSlice(i);
                ReadPiece(theta0, pieces[i], base0);
                var taskSlices = vectors.TaskSlice(i);
                for (int k = 0; k < tasks.Count; k++)
                {
                    var row = taskSlices[k];
                    ReadPiece(tasks[k], pieces[i], row);
                    row.sub_(base0);
                }
            }
        }
        catch
        {
            vectors.Dispose();
            throw;
        }
        return vectors;
    }

    private static void ReadPiece(ITensorSource source, TensorPiece piece, Tensor destination)
    {
        if (piece.Whole)
        {
            source.ReadInto(piece.Tensor, destination);
            return;
        }
        using var part = source.ReadRowRange(piece.Tensor, piece.FirstRow, piece.Rows, destination.dtype);
        using var flat = part.reshape(-1);
        destination.copy_(flat);
    }
}
