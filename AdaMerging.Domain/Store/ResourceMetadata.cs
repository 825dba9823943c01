using AdaMerging.Domain.Jobs;

namespace AdaMerging.Domain.Store;

/// <summary>Something a user may label with their own string key/values (as OpenAI's and Replicate's objects take).</summary>
public interface IAnnotated
{
    Dictionary<string, string> Metadata { get; }

    void Annotate(IReadOnlyDictionary<string, string> metadata);
}

/// <summary>The bounds of user metadata: at most 16 pairs, keys of 1-64 characters, values of at most 512.</summary>
public static class ResourceMetadata
{
    public const int MaxPairs = 16, MaxKey = 64, MaxValue = 512;

    /// <summary>Every way <paramref name="metadata"/> breaks the bounds, pointed at under <c>/metadata</c>; empty when it fits.</summary>
    public static IReadOnlyList<RequestProblem> Problems(IReadOnlyDictionary<string, string>? metadata)
    {
        var problems = new List<RequestProblem>();
        if (metadata is null) return problems;
        if (metadata.Count > MaxPairs)
            problems.Add(new(RequestProblem.At("metadata"), RequestProblemCode.TooMany, $"metadata: {metadata.Count} pairs, over the limit of {MaxPairs}"));
        foreach (var (key, value) in metadata)
        {
            var at = RequestProblem.At("metadata", key);
            if (key.Length is 0 or > MaxKey)
                problems.Add(new(at, RequestProblemCode.Invalid, $"metadata: the key '{(key.Length > MaxKey ? key[..MaxKey] + "…" : key)}' is not 1-{MaxKey} characters"));
            if (value is null) problems.Add(new(at, RequestProblemCode.Invalid, $"metadata['{key}']: null is not a string"));
            else if (value.Length > MaxValue) problems.Add(new(at, RequestProblemCode.Invalid, $"metadata['{key}']: {value.Length} characters, over the limit of {MaxValue}"));
        }
        return problems;
    }
}
