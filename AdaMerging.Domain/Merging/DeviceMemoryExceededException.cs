namespace AdaMerging.Domain.Merging;

/// <summary>
/// A merge whose estimated peak is over the memory of the device (or the worker's limit) that took it, found before
/// anything ran: the worker re-queues it for a larger device when a live worker has one, else it fails as invalid
/// input (docs/deployment.md, "Devices").
/// </summary>
public sealed class DeviceMemoryExceededException(string message, long estimateBytes, long limitBytes) : ArgumentException(message)
{
    public long EstimateBytes { get; } = estimateBytes;

    public long LimitBytes { get; } = limitBytes;
}
