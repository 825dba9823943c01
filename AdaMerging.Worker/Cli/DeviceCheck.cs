using AdaMerging.Domain.Architectures;
using System.Globalization;
using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Diagnostics;
using TorchSharp;

namespace AdaMerging.Worker.Cli;

/// <summary>One comparison of the device check: a measured difference against the tolerance it must stay within.</summary>
public sealed record CheckResult(string Name, double Difference, double Tolerance, string Measure)
{
    public bool Passed => Difference <= Tolerance;   // NaN fails

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{(Passed ? "PASS" : "FAIL")} {Name}: {Measure} {Difference:G3} (tolerance {Tolerance:G3})");
}

/// <summary>
/// `check-device`: what an operator runs on a new worker host (docs/deployment.md, "Checking a host"). For each device:
/// the engine against the PyTorch reference fixtures (tools/make_clip_fixture.py, tools/make_text_fixture.py), every
/// merge method and the λ gradient against the same computation on the CPU, then the time of an AdaMerging step of a
/// given shape and the memory it holds. Exit 0 when every comparison is within its tolerance, 1 otherwise. On a
/// machine without a GPU it checks the CPU, so CI runs the same code an operator does.
/// </summary>
public static class DeviceCheck
{
    public static int Run(CommandOptions options)
    {
        var fixtures = options.One("fixtures", Path.Combine(AppContext.BaseDirectory, "reference"));
        var asked = options.One("device", "all");
        var devices = asked == "all" ? TorchDevice.Visible() : [asked];
        var size = options.One("size", "vit-b-32");
        var problems = RandomProblems.Of(size);
        int tasks = Whole(options, "tasks", 8), batch = Whole(options, "batch", 16), steps = Whole(options, "steps", 3);
        torch.set_num_threads(Environment.ProcessorCount);
        Console.WriteLine($"device check: {string.Join(", ", devices)}; reference fixtures in {fixtures}; {Environment.ProcessorCount} CPU threads");

        var failed = 0;
        foreach (var name in devices)
        {
            var device = TorchDevice.Choose(name);
            var tolerances = DeviceTolerances.For(device);
            Console.WriteLine($"== {name}: {tolerances.Why}");
            var results = ReferenceChecks.Run(fixtures, device, tolerances).Concat(MethodChecks.Run(fixtures, device, tolerances));
            foreach (var result in results)
            {
                Console.WriteLine($"  {result}");
                if (!result.Passed) failed++;
            }
            StepTiming.Run(name, device, size, problems, tasks, batch, steps);
        }
        Console.WriteLine(failed == 0 ? "device check passed" : $"device check FAILED: {failed} comparison(s) outside tolerance");
        return failed == 0 ? 0 : 1;
    }

    private static int Whole(CommandOptions options, string name, int fallback) =>
        int.Parse(options.One(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
}

/// <summary>
/// How close a device must come (docs/deployment.md, "Checking a host"). On the CPU the reference tolerance is the unit
/// tests' 1e-5 and a second run of the same computation must be bit-identical. A GPU sums in other orders, and cuDNN
/// may run convolutions in TF32 (10-bit mantissa) on Ampere and later, so forward passes are held to 1e-3 relative,
/// element-wise merges to 1e-6, and learned λ to one Adam step (the learning rate).
/// </summary>
public sealed record DeviceTolerances(double Reference, double Elementwise, double Gradient, double LambdaInStepsOf, string Why)
{
    public static DeviceTolerances For(torch.Device device) => device.type == DeviceType.CPU
        ? new(1e-5, 0, 0, 0, "CPU: the reference within the unit tests' 1e-5, the engine against itself bit-identical")
        : new(1e-3, 1e-6, 1e-3, 1, $"{device}: the reference within 1e-3 relative (TF32 convolutions), element-wise merges 1e-6, the λ gradient 1e-3, λ within one Adam step");
}
