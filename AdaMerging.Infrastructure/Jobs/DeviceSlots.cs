namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// The devices one worker process serves (docs/deployment.md, "Devices"): each of the merge queue's Hangfire slots
/// leases one device for the whole merge, so two merges never share a device unless <c>SlotsPerDevice</c> allows it,
/// and a merge runs entirely on its lease's device (cuda:N), evaluation and the final merge included.
/// </summary>
public sealed class DeviceSlots
{
    private readonly Lock _lock = new();
    private readonly int[] _inUse;

    public DeviceSlots(IReadOnlyList<string> devices, int slotsPerDevice)
    {
        if (devices.Count == 0) throw new ArgumentException("at least one device is needed", nameof(devices));
        ArgumentOutOfRangeException.ThrowIfLessThan(slotsPerDevice, 1);
        Devices = devices;
        SlotsPerDevice = slotsPerDevice;
        _inUse = new int[devices.Count];
    }

    public IReadOnlyList<string> Devices { get; }

    public int SlotsPerDevice { get; }

    /// <summary>How many merges the queue's server may run at once: one per slot.</summary>
    public int Capacity => Devices.Count * SlotsPerDevice;

    /// <summary>
    /// The least used device with a free slot. The server never runs more merges than <see cref="Capacity"/>, so one is
    /// always free; should it not be (the worker count was set higher), the least used device is shared.
    /// </summary>
    public Lease Acquire()
    {
        lock (_lock)
        {
            int best = 0;
            for (int i = 1; i < _inUse.Length; i++)
                if (_inUse[i] < _inUse[best]) best = i;
            _inUse[best]++;
            return new Lease(this, best);
        }
    }

    /// <summary>Merges running on each device now.</summary>
    public IReadOnlyList<int> InUse()
    {
        lock (_lock) return [.. _inUse];
    }

    private void Release(int index)
    {
        lock (_lock) _inUse[index]--;
    }

    public sealed class Lease(DeviceSlots slots, int index) : IDisposable
    {
        private bool _released;

        public string Device => slots.Devices[index];

        public void Dispose()
        {
            if (_released) return;
            _released = true;
            slots.Release(index);
        }
    }
}
