using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Domain.Merging;

/// <summary>A task's rows past the base's in one tensor, left out of the merge under <c>embeddingRows: base</c>.</summary>
public sealed record DroppedRows(string Task, string Tensor, long TaskRows, long BaseRows);

/// <summary>
/// Tasks whose vocabulary grew (docs/algorithm.md, "Vocabulary"): a fine-tune that added tokens has embedding and output
/// matrices with more rows than the base's, the rest of the shape the same. Refused by default, naming the tensors and
/// both row counts; under <c>embeddingRows: base</c> (mergekit's <c>tokenizer_source: base</c>) the task is read with
/// the base's rows only (the base's tokens keep their ids; the added tokens are dropped), and the report says so.
/// </summary>
public static class VocabularyRows
{
    /// <summary>The matrices where <paramref name="task"/> has more rows than the base (a model's classifier, a task's own head, never).</summary>
    public static IReadOnlyList<(string Tensor, long TaskRows, long BaseRows)> Grown(ITensorCatalog baseCatalog, ITensorCatalog task, ModelSpec? model = null) =>
        [.. task.Tensors.Where(t => t.DType.IsFloatingPoint && model?.IsClassifier(t.Name) != true)
            .Select(t => (Task: t, Base: baseCatalog.Find(t.Name)))
            .Where(p => p.Base is { } b && IsGrown(p.Task, b))
            .Select(p => (p.Task.Name, p.Task.Shape[0], p.Base!.Shape[0]))];

    /// <summary>A matrix with more rows than the base's and the same columns.</summary>
    public static bool IsGrown(TensorInfo task, TensorInfo baseTensor) =>
        task.Shape.Count == 2 && baseTensor.Shape.Count == 2 && task.Shape[1] == baseTensor.Shape[1] && task.Shape[0] > baseTensor.Shape[0];

    /// <summary>What a grown matrix is refused as.</summary>
    public static string Problem(string label, string tensor, long taskRows, long baseRows) =>
        $"{label} has '{tensor}' with {taskRows} rows where the base has {baseRows} (tokens added to its vocabulary): "
        + "the option embeddingRows: base merges the base's rows and drops the added ones";

    /// <summary>The task read with the base's rows wherever it has more (a view that reads through), and what was dropped.</summary>
    public static (ITensorSource Weights, IReadOnlyList<DroppedRows> Dropped) KeepBaseRows(string taskName, ITensorSource task, ITensorCatalog baseCatalog, ModelSpec? model)
    {
        var grown = Grown(baseCatalog, task, model);
        return grown.Count == 0 ? (task, [])
            : (new FirstRows(task, grown.ToDictionary(g => g.Tensor, g => g.BaseRows, StringComparer.Ordinal)),
               [.. grown.Select(g => new DroppedRows(taskName, g.Tensor, g.TaskRows, g.BaseRows))]);
    }

    /// <summary>A source whose named tensors show only their first rows; it does not own the source.</summary>
    private sealed class FirstRows : ITensorSource
    {
        private readonly ITensorSource _inner;
        private readonly Dictionary<string, long> _rows;
        private readonly Dictionary<string, TensorInfo> _byName;

        public FirstRows(ITensorSource inner, Dictionary<string, long> rows)
        {
            (_inner, _rows) = (inner, rows);
            Tensors = [.. inner.Tensors.Select(t => rows.TryGetValue(t.Name, out var n) ? new TensorInfo(t.Name, t.DType, [n, .. t.Shape.Skip(1)]) : t)];
            _byName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        }

        public IReadOnlyList<TensorInfo> Tensors { get; }

        public TensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

        public torch.Tensor Read(string name, torch.ScalarType? convertTo = null) =>
            _rows.TryGetValue(name, out var n) ? _inner.ReadRowRange(name, 0, n, convertTo) : _inner.Read(name, convertTo);

        public torch.Tensor ReadRowRange(string name, long firstRow, long rows, torch.ScalarType? convertTo = null) =>
            _inner.ReadRowRange(name, firstRow, rows, convertTo);

        public void ReadRowRangeInto(string name, long firstRow, long rows, torch.Tensor destination) =>
            _inner.ReadRowRangeInto(name, firstRow, rows, destination);

        public void Dispose() { }
    }
}
