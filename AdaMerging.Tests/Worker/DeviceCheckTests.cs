using System.Diagnostics;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Worker;

/// <summary>
/// The worker's `check-device` (what scripts/gpu-check.sh runs on a new host) on this machine's CPU, as a real process:
/// every comparison named and passed, a step timed, and a reference that disagrees failing the check.
/// </summary>
public sealed class DeviceCheckTests : TempDirectoryTests
{
    private static readonly string[] Comparisons =
    [
        "vision tower and head against PyTorch", "text tower against PyTorch", "AdaMerging λ gradient against the CPU",
        "weight_averaging merged weights against the CPU", "task_arithmetic merged weights against the CPU",
        "ties merged weights against the CPU", "dare merged weights against the CPU", "adamerging λ after 5 layer-wise steps against the CPU",
        "ResNet (basic blocks, torchvision names) against PyTorch", "ResNet (basic blocks, hugging_face names) against PyTorch",
        "ResNet (bottleneck blocks, torchvision names) against PyTorch", "ResNet (bottleneck blocks, hugging_face names) against PyTorch",
        "ResNet batch-norm statistics recomputed against PyTorch",
        .. AdaMerging.Domain.Architectures.Bert.BertReferenceChecks.Variants.Select(v => $"BERT family ({v}) against PyTorch"),
        .. AdaMerging.Domain.Architectures.Gpt2.Gpt2ReferenceChecks.Variants.Select(v => $"GPT-2 ({v}) against PyTorch"),
    ];

    [Fact]
    public void On_the_CPU_every_comparison_passes_and_a_step_is_timed_with_its_memory()
    {
        var (exit, output) = CheckDevice(Path.Combine(AppContext.BaseDirectory, "reference"));

        Assert.True(exit == 0, output);
        foreach (var name in Comparisons) Assert.Contains($"PASS {name}:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
        Assert.Matches(@"step timing on cpu: tiny \(hidden 32, 2 layers, 16 px\), K = 3, batch 4, float32: median \d+\.\d ms over 2 steps", output);
        Assert.Matches(@"process peak RSS \d+\.\d\d GB", output);
        Assert.Contains("device check passed", output, StringComparison.Ordinal);
    }

    [Fact]
    public void A_reference_the_engine_disagrees_with_fails_the_check_naming_it_with_exit_code_1()
    {
        foreach (var fixture in new[] { "clip_tiny", "clip_text", "resnet_tiny", "bert_tiny", "gpt2_tiny", "llama_tiny" })
        {
            var from = Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture);
            foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            {
                var to = Dir.File(Path.Combine(fixture, Path.GetRelativePath(from, file)));
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                File.Copy(file, to);
            }
        }
        // PyTorch's features moved by 1e-3 of their largest value: 100 × the CPU's tolerance.
        var io = Dir.File("clip_tiny/io.safetensors");
        Dictionary<string, torch.Tensor> tensors;
        using (var file = SafetensorsFile.Open(io)) tensors = file.Tensors.ToDictionary(t => t.Name, t => file.Read(t.Name));
        tensors["features"] = tensors["features"].Plus(tensors["features"].abs().max().Times(1e-3));
        TestCheckpoints.Save(io, tensors);

        var (exit, output) = CheckDevice(Dir.Path);

        Assert.Equal(1, exit);
        var failure = System.Text.RegularExpressions.Regex.Match(output, @"FAIL vision tower and head against PyTorch: largest relative difference (\S+) \(tolerance 1E-05\)");
        Assert.True(failure.Success, output);
        Assert.InRange(double.Parse(failure.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 9.9e-4, 1e-3);
        Assert.Contains("PASS text tower against PyTorch", output, StringComparison.Ordinal);
        Assert.Contains("device check FAILED: 1 comparison(s) outside tolerance", output, StringComparison.Ordinal);
    }

    private static (int Exit, string Output) CheckDevice(string fixtures)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "AdaMerging.Worker.dll"), "check-device", "--device", "cpu",
                     "--size", "tiny", "--tasks", "3", "--batch", "4", "--steps", "2", "--fixtures", fixtures })
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output + error.Result);
    }
}
