namespace AdaMerging.Api.Endpoints;

/// <summary>
/// Every operation has an explicit id, verb then resource (submitMerge, listHeads, downloadMergeArchive), given where it is
/// mapped with WithName: generated clients name their methods after it, so it never follows the route (docs/api.md, "Clients").
/// </summary>
public static class OperationNames
{
    /// <summary>"dataset" as an id spells it: "Dataset".</summary>
    public static string Pascal(string kind) => string.Concat(char.ToUpperInvariant(kind[0]), kind[1..]);
}
