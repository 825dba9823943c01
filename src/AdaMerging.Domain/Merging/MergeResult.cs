namespace AdaMerging.Domain.Merging;

/// <summary>What a merge wrote: the tensors merged, those copied from the base, and the parameters in all.</summary>
public sealed record MergeResult(int MergedTensors, int CopiedTensors, long Parameters, TimeSpan Elapsed);
