using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>The tasks' weights as a merge reads them, the same for pre-flight and the run.</summary>
public static class TaskWeights
{
    /// <summary>
    /// Each task under its base's names (<see cref="ModelFolder.WeightsNamedAs"/>: a LoRA adapter as the model it makes
    /// of the base), and under <c>embeddingRows: base</c> with the base's rows only
    /// (<see cref="VocabularyRows.KeepBaseRows"/>), with what was dropped.
    /// </summary>
    public static (List<ITensorSource> Weights, List<DroppedRows> Dropped) Read(MethodOptions options, IReadOnlyList<string> taskNames,
        IReadOnlyList<ModelFolder> taskFolders, ModelFolder baseFolder)
    {
        var named = taskFolders.Select(f => f.WeightsNamedAs(baseFolder)).ToList();
        if (CommonOptions.EmbeddingRows.In(options) != EmbeddingRowsSource.Base) return (named, []);
        var read = named.Select((t, k) => VocabularyRows.KeepBaseRows(taskNames[k], t, baseFolder.Weights, baseFolder.Spec)).ToList();
        return ([.. read.Select(r => r.Weights)], [.. read.SelectMany(r => r.Dropped)]);
    }
}
