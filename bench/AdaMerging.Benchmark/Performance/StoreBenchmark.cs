using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Diagnostics;
using System.Diagnostics;
using System.Globalization;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Tensors;
using TorchSharp;

namespace AdaMerging.Benchmark.Performance;

/// <summary>
/// `bench-store`: how fast checkpoints are inspected and loaded, as ratios to what the disk and memory do in the
/// same run. Writes a ViT-B/32- and a ViT-L/14-shaped checkpoint of random weights, then measures.
/// </summary>
public static class StoreBenchmark
{
    private static readonly ClipVisionConfig VitB32 = new();
    private static readonly ClipVisionConfig VitL14 = ModelShapes.Named("vit-l-14");

    public static int Run(BenchOptions options)
    {
        var dir = options.Get("dir", Path.Combine(Path.GetTempPath(), "adamerging-bench"));
        Directory.CreateDirectory(dir);
        var b32 = Path.Combine(dir, "vit-b-32.safetensors");
        var l14 = Path.Combine(dir, "vit-l-14.safetensors");
        try
        {
            Report("write ViT-B/32", Timing.Time(() => Write(b32, VitB32)), new FileInfo(b32).Length);
            Report("write ViT-L/14", Timing.Time(() => Write(l14, VitL14)), new FileInfo(l14).Length);

            var raw = Timing.MedianOf(5, () => ReadRaw(l14));
            Report("sequential read of ViT-L/14 (baseline)", raw, new FileInfo(l14).Length);
            var header = Timing.MedianOf(21, () => SafetensorsHeader.Read(l14));
            Console.WriteLine($"header of the {new FileInfo(l14).Length / 1e9:F2} GB ViT-L/14 checkpoint: {header.TotalMilliseconds:F3} ms " +
                $"(median of 21) = {header / raw:P3} of reading the file once");

            // Baseline: the whole file into fresh memory, which pays the same page faults a load does.
            var rawB = Timing.MedianOf(3, () => GC.KeepAlive(File.ReadAllBytes(b32)));
            GC.Collect();
            LoadAll(b32); // warms libtorch's allocator and the page cache
            ProcessMemory.ResetPeak();
            var before = ProcessMemory.Resident();
            var load = Timing.MedianOf(3, () => LoadAll(b32));
            var peak = ProcessMemory.Peak() - before;
            var size = new FileInfo(b32).Length;
            Console.WriteLine($"load ViT-B/32 ({size / 1e6:F0} MB) into tensors: {load.TotalMilliseconds:F0} ms (median of 3) = {load / rawB:F2}× " +
                $"reading the file into fresh memory ({rawB.TotalMilliseconds:F0} ms); peak RSS +{peak / 1e6:F0} MB = {(double)peak / size:F2}× the file");
            return 0;
        }
        finally
        {
            File.Delete(b32);
            File.Delete(l14);
        }
    }

    /// <summary>`make-checkpoint --out F --gb 2`: a safetensors file of 64 MB float32 tensors of random values.</summary>
    public static int MakeCheckpoint(BenchOptions options)
    {
        var path = options.Required("out");
        var gb = double.Parse(options.Get("gb", "2"), CultureInfo.InvariantCulture);
        int tensors = Math.Max(1, (int)Math.Round(gb * 1e9 / (64 << 20)));
        var layout = Enumerable.Range(0, tensors).Select(i => ($"layer{i}.weight", SafetensorsDType.F32, (IReadOnlyList<long>)[4096L, 4096L])).ToList();
        using var writer = new SafetensorsWriter(path, layout);
        var generator = new torch.Generator(3);
        foreach (var (name, _, shape) in layout)
        {
            using var scope = torch.NewDisposeScope();
            writer.Write(name, torch.rand(shape.ToArray(), generator: generator));
        }
        writer.Commit();
        Console.WriteLine($"wrote {tensors} tensors, {new FileInfo(path).Length / 1e9:F2} GB, to {path}");
        return 0;
    }

    private static void Write(string path, ClipVisionConfig config)
    {
        var layout = ClipVisionLayout.ExpectedShapes(config, withProjection: true)
            .Select(e => (e.Name, SafetensorsDType.F32, (IReadOnlyList<long>)e.Shape)).ToList();
        using var writer = new SafetensorsWriter(path, layout);
        var generator = new torch.Generator(7);
        foreach (var (name, _, shape) in layout)
        {
            using var scope = torch.NewDisposeScope();
            writer.Write(name, torch.randn(shape.ToArray(), generator: generator));
        }
        writer.Commit();
    }

    private static void LoadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var tensors = file.Tensors.Select(t => file.Read(t.Name)).ToList();
        tensors.ForEach(t => t.Dispose());
    }

    private static void ReadRaw(string path)
    {
        var buffer = new byte[1 << 20];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        while (stream.Read(buffer) > 0) { }
    }

    private static void Report(string what, TimeSpan time, long bytes) =>
        Console.WriteLine($"{what}: {bytes / 1e6:F0} MB in {time.TotalMilliseconds:F0} ms = {bytes / 1e6 / time.TotalSeconds:F0} MB/s");
}
