using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// What a fine-tuned checkpoint may be beside its base, from headers alone (docs/algorithm.md, "Task vectors"):
/// every floating tensor it has, the base has too, with the same shape. It may lack base tensors (a published task is
/// often the vision tower alone, without projection or text tower): those are carried from the base, not merged.
/// Integer and bool buffers always come from the base.
/// </summary>
public static class CheckpointCompatibility
{
    /// <summary>At most <paramref name="limit"/> problems, in the task's tensor order.</summary>
    /// <param name="model">The base's model: its classifier is a task's own head, of any number of classes, never compared.</param>
    public static IReadOnlyList<string> Differences(ITensorCatalog baseCatalog, string label, ITensorCatalog other, Architectures.ModelSpec? model = null, int limit = 5)
    {
        var found = new List<string>();
        foreach (var o in other.Tensors.Where(t => t.DType.IsFloatingPoint && model?.IsClassifier(t.Name) != true))
        {
            if (found.Count >= limit) return found;
            var b = baseCatalog.Find(o.Name);
            if (b is null)
                found.Add($"{label} has tensor '{o.Name}' {o.ShapeText} that the base lacks");
            else if (!b.DType.IsFloatingPoint)
                found.Add($"{label} has '{o.Name}' as {o.DType} where the base has {b.DType}");
            else if (VocabularyRows.IsGrown(o, b))
                found.Add(VocabularyRows.Problem(label, o.Name, o.Shape[0], b.Shape[0]));
            else if (!o.HasSameShape(b))
                found.Add($"{label} has '{o.Name}' with shape {o.ShapeText} where the base has {b.ShapeText}");
        }
        return found;
    }

    /// <summary>The problem when the base is not a model: a LoRA adapter is a task, made of the base it was trained on.</summary>
    public static string? BaseProblem(Checkpoints.ModelFolder baseFolder) => baseFolder.Adapter is null ? null
        : "the base is a LoRA adapter; the base is the full pre-trained model the adapters were trained on"
            + (baseFolder.Adapter.Config.BaseModel is { } b ? $" (its adapter_config.json names '{b}')" : "") + ", and adapters are tasks";

    /// <summary>True when every task has <paramref name="name"/> as a floating tensor: then it is merged.</summary>
    public static bool SharedByAll(string name, IEnumerable<ITensorCatalog> tasks) => tasks.All(t => t.Find(name) is { DType.IsFloatingPoint: true });

    /// <summary>The problem when the base and the tasks share no floating tensor at all: nothing would be merged.</summary>
    public static string? NothingShared(ITensorCatalog baseCatalog, IReadOnlyList<ITensorCatalog> tasks) =>
        baseCatalog.Tensors.Any(b => b.DType.IsFloatingPoint && SharedByAll(b.Name, tasks)) ? null
            : "the base and the tasks share no floating tensor: nothing would be merged";
}
