using System.Diagnostics;

namespace AdaMerging.Benchmark.Performance;

/// <summary>The one way the benchmarks time things: wall-clock of an action, and medians.</summary>
public static class Timing
{
    public static TimeSpan Time(Action work)
    {
        var clock = Stopwatch.StartNew();
        work();
        return clock.Elapsed;
    }

    public static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    /// <summary>The median of <paramref name="runs"/> timed runs of <paramref name="work"/>.</summary>
    public static TimeSpan MedianOf(int runs, Action work) => Median(Enumerable.Range(0, runs).Select(_ => Time(work)));

    /// <summary>The median of <paramref name="runs"/> measurements after one warm-up that is thrown away.</summary>
    public static TimeSpan MedianAfterWarmUp(int runs, Func<TimeSpan> measure) => Median(Enumerable.Range(0, runs + 1).Select(_ => measure()).Skip(1));
}
