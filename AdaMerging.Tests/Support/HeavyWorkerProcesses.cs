namespace AdaMerging.Tests.Support;

/// <summary>
/// Tests that keep several worker processes computing for minutes (kills mid-merge, 200 merges on three hosts): they
/// run one at a time and after the parallel tests, since on two cores they would starve each other's deadlines.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyWorkerProcesses
{
    public const string Name = "heavy worker processes";
}
