using AdaMerging.Infrastructure.Jobs;

namespace AdaMerging.Tests.Infrastructure;

/// <summary>Each merge slot leases its own device (issue 16).</summary>
public sealed class DeviceSlotsTests
{
    [Fact]
    public void N_concurrent_leases_over_N_devices_each_get_a_distinct_device_and_released_ones_are_reused()
    {
        var slots = new DeviceSlots(["cuda:0", "cuda:1", "cuda:2", "cuda:3"], slotsPerDevice: 1);
        Assert.Equal(4, slots.Capacity);
        var leases = Enumerable.Range(0, 4).Select(_ => slots.Acquire()).ToList();
        Assert.Equal(["cuda:0", "cuda:1", "cuda:2", "cuda:3"], leases.Select(l => l.Device).Order(StringComparer.Ordinal));
        leases[2].Dispose();
        leases[2].Dispose(); // twice is once
        using var again = slots.Acquire();
        Assert.Equal("cuda:2", again.Device);
        Assert.Equal([1, 1, 1, 1], slots.InUse());
        foreach (var l in leases) l.Dispose();
    }

    [Fact]
    public void With_two_slots_per_device_leases_spread_over_devices_before_doubling_up()
    {
        var slots = new DeviceSlots(["cuda:0", "cuda:1"], slotsPerDevice: 2);
        Assert.Equal(4, slots.Capacity);
        var leases = Enumerable.Range(0, 4).Select(_ => slots.Acquire()).ToList();
        Assert.Equal([2, 2], slots.InUse());
        Assert.Equal(2, leases.Count(l => l.Device == "cuda:0"));
        foreach (var l in leases) l.Dispose();
        Assert.Equal([0, 0], slots.InUse());
    }

    [Fact]
    public void Concurrent_leases_from_many_threads_never_put_two_on_one_device()
    {
        var devices = Enumerable.Range(0, 8).Select(i => $"cuda:{i}").ToList();
        var slots = new DeviceSlots(devices, slotsPerDevice: 1);
        var held = new System.Collections.Concurrent.ConcurrentBag<DeviceSlots.Lease>();
        Parallel.For(0, 8, _ => held.Add(slots.Acquire()));
        Assert.Equal(devices, held.Select(l => l.Device).Order(StringComparer.Ordinal));
        foreach (var l in held) l.Dispose();
    }
}
