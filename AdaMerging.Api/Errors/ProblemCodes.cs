namespace AdaMerging.Api.Errors;

/// <summary>
/// Every problem answer carries a stable machine-readable <c>code</c> and a <c>type</c> URI made from it
/// (<c>urn:adamerging:problem:{code}</c>), so clients branch on the kind of error, never on its wording.
/// </summary>
public static class ProblemCodes
{
    public const string TypePrefix = "urn:adamerging:problem:";

    public const string StorageQuota = "storage_quota_exceeded";
    public const string MergeQuota = "merge_quota_exceeded";
    public const string InputsIncompatible = "inputs_incompatible";
    public const string HeadUnbuildable = "head_unbuildable";

    /// <summary>The code a status has when the handler gave none.</summary>
    public static string ForStatus(int? status) => status switch
    {
        400 => "invalid_request",
        401 => "unauthenticated",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "conflict",
        410 => "gone",
        412 => "precondition_failed",
        413 => "too_large",
        415 => "unsupported_media_type",
        422 => "unprocessable",
        423 => "locked",
        429 => "rate_limited",
        503 => "unavailable",
        _ => "internal_error",
    };
}
