using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using AdaMerging.Tests.Support;

namespace AdaMerging.Tests.Api;

/// <summary>The service with its data folder on a 32 MB tmpfs of its own, a disk the test can fill.</summary>
public sealed class SmallDiskFixture : ServiceFixture
{
    /// <summary>Why the small disk could not be made (mounting needs root with CAP_SYS_ADMIN), or null.</summary>
    public string? MountProblem { get; private set; }

    protected override async Task PrepareDataRootAsync(string path)
    {
        var (code, output) = await RunAsync("mount", "-t", "tmpfs", "-o", "size=32m,mode=0755", "tmpfs", path);
        if (code != 0) MountProblem = $"mount -t tmpfs failed ({code}): {output.Trim()}";
    }

    protected override async Task ReleaseDataRootAsync(string path)
    {
        if (MountProblem is null) await RunAsync("umount", "-l", path);
    }

    private static async Task<(int Code, string Output)> RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var output = await process.StandardError.ReadToEndAsync() + await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, output);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}

public sealed class DiskFullTests(SmallDiskFixture service) : IClassFixture<SmallDiskFixture>, IDisposable
{
    private readonly TempDirectory _files = new();

    public void Dispose() => _files.Dispose();

    private long Free => new DriveInfo(service.DataRoot).AvailableFreeSpace;

    /// <summary>Fills the disk, then frees <paramref name="leave"/> bytes: less than the merged model needs.</summary>
    private FileStream Fill(long leave)
    {
        var filler = new FileStream(Path.Combine(service.DataRoot, "filler"), FileMode.Create, FileAccess.Write, FileShare.None, 1);
        var chunk = new byte[1 << 16];
        try
        {
            while (true) filler.Write(chunk);
        }
        catch (IOException)
        {
            // the disk is full
        }
        filler.SetLength(Math.Max(0, filler.Length - leave));
        filler.Flush(flushToDisk: true);
        return filler;
    }

    [SkippableFact]
    public async Task A_full_disk_while_writing_artifacts_fails_the_merge_with_a_readable_reason_and_releases_the_space()
    {
        Skip.If(service.MountProblem is not null, "this test needs a file system it can fill: " + service.MountProblem);
        var inputs = await TinyService.UploadAsync(service, _files, tasks: 1, seed: 81);
        var request = new { method = "task_arithmetic", @base = inputs.Base, tasks = new[] { new { name = "a", checkpoint = inputs.Tasks[0].Checkpoint } } };
        var temp = Path.Combine(service.DataRoot, "blobs", "tmp");
        int blobs = Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "sha256"), "*", SearchOption.AllDirectories).Length;

        long freeBefore;
        JsonElement failed;
        using (var filler = Fill(leave: 40 << 10)) // the merged model is 85 kB
        {
            freeBefore = Free;
            using var submitted = await service.Client.PostAsJsonAsync("/merges", request);
            failed = await service.WaitForMergeAsync(submitted.Headers.Location!.ToString());
            Assert.Equal("failed", failed.GetProperty("status").GetString());
            Assert.Contains("No space left on device", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(0, failed.GetProperty("files").GetArrayLength());
            Assert.Empty(Directory.GetFileSystemEntries(temp));                  // no partial artifact anywhere
            Assert.Equal(blobs, Directory.GetFiles(Path.Combine(service.DataRoot, "blobs", "sha256"), "*", SearchOption.AllDirectories).Length);
            Assert.Equal(freeBefore, Free);                                       // what the merge wrote is released
        }
        File.Delete(Path.Combine(service.DataRoot, "filler"));

        using var again = await service.Client.PostAsJsonAsync("/merges", request);
        Assert.Equal("succeeded", (await service.WaitForMergeAsync(again.Headers.Location!.ToString())).GetProperty("status").GetString());
    }
}
