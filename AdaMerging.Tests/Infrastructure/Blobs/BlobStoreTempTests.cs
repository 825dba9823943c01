using System.Diagnostics;
using AdaMerging.Infrastructure.Blobs;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Infrastructure.Blobs;

/// <summary>Several hosts share one store: a starting process sweeps only what no live writer can own (issue 16).</summary>
public sealed class BlobStoreTempTests : TempDirectoryTests
{
    private string Temp => Path.Combine(Dir.Path, "blobs", "tmp");

    private string Touch(string name, TimeSpan age)
    {
        Directory.CreateDirectory(Temp);
        var path = Path.Combine(Temp, name);
        File.WriteAllText(path, "partial");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - age);
        return path;
    }

    [Fact]
    public void Temp_names_carry_host_and_process_and_parse_back_even_when_the_host_has_dashes()
    {
        var store = new BlobStore(Dir.Path, "gpu-node-7");
        var name = Path.GetFileName(store.NewTempPath(".safetensors"));
        Assert.StartsWith($"gpu-node-7-{Environment.ProcessId}-", name, StringComparison.Ordinal);
        Assert.Equal(("gpu-node-7", Environment.ProcessId), BlobStore.Writer(name));
        Assert.Equal(((string?)null, 42), BlobStore.Writer($"42-{Guid.NewGuid():N}"));
    }

    [Fact]
    public void A_starting_store_sweeps_its_hosts_dead_processes_files_and_other_hosts_files_only_when_old()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "30"))!;
        int dead;
        using (var gone = Process.Start(new ProcessStartInfo("true"))!)
        {
            gone.WaitForExit();
            dead = gone.Id;
        }
        var liveOwn = Touch($"host-a-{sleeper.Id}-{Guid.NewGuid():N}", TimeSpan.FromDays(3));
        var deadOwn = Touch($"host-a-{dead}-{Guid.NewGuid():N}.safetensors", TimeSpan.Zero);
        var freshForeign = Touch($"host-b-{dead}-{Guid.NewGuid():N}", TimeSpan.FromHours(1)); // its pid means nothing here
        var oldForeign = Touch($"host-b-{sleeper.Id}-{Guid.NewGuid():N}", TimeSpan.FromHours(30));

        _ = new BlobStore(Dir.Path, "host-a", TimeSpan.FromHours(24));

        Assert.True(File.Exists(liveOwn), "a live process's file of this host was removed");
        Assert.False(File.Exists(deadOwn), "a dead process's file of this host was kept");
        Assert.True(File.Exists(freshForeign), "another host's recent file was removed");
        Assert.False(File.Exists(oldForeign), "another host's file older than the age was kept");
        sleeper.Kill();
    }
}
