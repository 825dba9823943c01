namespace AdaMerging.Domain.Merging;

/// <summary>One input file of a merge and its SHA-256.</summary>
/// <param name="Role">"base", "task 'x'", "task 'x' head", "task 'x' adaptation data", "task 'x' evaluation data".</param>
public sealed record InputDigest(string Role, string File, string Sha256);

/// <summary>
/// What makes a run reproducible beside its options (which the report holds with their defaults filled in): every
/// input's SHA-256, where it ran and with how many threads, and the versions of this project and of libtorch. The
/// same request on the same device and thread count gives a bit-identical model.
/// </summary>
public sealed record RunRecord(IReadOnlyList<InputDigest> Inputs, string Device, int Threads, string Version, string Torch, string TorchSharp, string? Host = null);
