namespace AdaMerging.Infrastructure.Devices;

/// <summary>
/// One device a worker process serves a queue with, and the memory a merge may use on it (the worker's
/// MergeMemoryLimitBytes, else the device's own): what a merge too large for its device is re-queued by
/// (docs/deployment.md, "Devices"). Each worker rewrites its rows as it beats; rows that stop beating are ignored.
/// </summary>
public sealed class WorkerDevice
{
    public WorkerDevice(string server, string queue, string device, long memoryBytes, bool learning, DateTimeOffset seenAt)
    {
        Server = server;
        Queue = queue;
        Device = device;
        MemoryBytes = memoryBytes;
        Learning = learning;
        SeenAt = seenAt;
    }

    /// <summary>host id : process id, as the process's Hangfire servers are named.</summary>
    public string Server { get; private set; }

    public string Queue { get; private set; }

    public string Device { get; private set; }

    public long MemoryBytes { get; private set; }

    /// <summary>True for the merge queue (learning merges run on its device), false for the CPU queue (data-free merges).</summary>
    public bool Learning { get; private set; }

    public DateTimeOffset SeenAt { get; private set; }
}
