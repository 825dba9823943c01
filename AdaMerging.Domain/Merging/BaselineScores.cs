namespace AdaMerging.Domain.Merging;

/// <summary>
/// The report's baseline columns remembered between merges (docs/algorithm.md, "Evaluation and the report"): the
/// pre-trained model's, each individual model's and task arithmetic's score on a task are fixed by their inputs'
/// digests and the task's head and data, so a second merge over the same inputs evaluates only its merged model.
/// </summary>
public interface IBaselineScores
{
    bool TryGet<T>(string key, out T? value);

    /// <summary>Remembers a score; a failure to store is not the merge's failure (the next merge evaluates again).</summary>
    void Put<T>(string key, T value);
}

/// <summary>Where the baselines are remembered and the key of each (column, task); a null key is never cached.</summary>
public sealed record BaselineCache(IBaselineScores Store, Func<BaselineColumn, int, string?> Key);

/// <summary>The report's columns besides the merged model's.</summary>
public enum BaselineColumn
{
    Base,
    Individual,
    TaskArithmetic,
}
