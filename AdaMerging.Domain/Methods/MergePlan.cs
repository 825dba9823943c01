using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Merging;

namespace AdaMerging.Domain.Methods;

/// <summary>A merge with its method, its resolved options and every input resolved to files: what a merge run executes.</summary>
/// <param name="BaseName">What the base is called (its upload's name, or its folder): the model card's base_model.</param>
public sealed record MergePlan(IMergeMethod Method, MethodOptions Options, IReadOnlyDictionary<string, string> BaseFiles, IReadOnlyList<PlannedTask> Tasks,
    string BaseName = "base");

/// <summary>The memory a run is expected to need, from its inputs' headers (docs/algorithm.md, "Memory").</summary>
public static class RunMemory
{
    /// <summary>The run's shape: merged parameters N from the headers, K, whether it evaluates and in what batches, and whether it streams.</summary>
    /// <param name="streamWorkingBytes">The working memory a streamed merge is given, when this one streams; else 0.</param>
    /// <param name="languageModelling">The tasks' data are prompts for a causal language model.</param>
    public static RunShape Shape(MethodOptions options, Architectures.ModelSpec? model,
        Tensors.ITensorCatalog baseWeights, IReadOnlyList<Tensors.ITensorCatalog> tasks, bool evaluates, long streamWorkingBytes = 0, bool languageModelling = false)
    {
        var names = TaskVectors.MergedNames(baseWeights, tasks, CommonOptions.Excluded(options, model));
        var sizes = names.Select(name => baseWeights.Find(name)!.ElementCount).ToList();
        return new RunShape(model?.Memory, sizes.Sum(), tasks.Count, evaluates && model is not null, (int)CommonOptions.EvaluationBatchSize.In(options),
            sizes.DefaultIfEmpty(0).Max(), streamWorkingBytes, FactoredTaskVectors.Elements(tasks, names, sizes.Sum()), languageModelling);
    }

    /// <summary>The method's estimate for that shape, in bytes.</summary>
    public static long Estimate(IMergeMethod method, MethodOptions options, RunShape shape) => method.EstimatePeakBytes(options, shape);
}
