using System.Diagnostics;

namespace AdaMerging.Tests.Support;

/// <summary>
/// Waiting for an outcome: ask until it holds or the deadline passes, then fail saying what never happened. No test
/// waits a fixed time for an outcome; this is the one loop they share.
/// </summary>
public static class Poll
{
    /// <summary>Returns how long it took; fails with <paramref name="failure"/> (read at the deadline) when it never held.</summary>
    public static Task<TimeSpan> UntilAsync(Func<Task<bool>> done, TimeSpan limit, Func<string> failure, int everyMilliseconds = 100) =>
        UntilAsync(done, limit, () => Task.FromResult(failure()), everyMilliseconds);

    /// <summary>The same, the failure read asynchronously at the deadline (a merge's events, say, to tell why it is stuck).</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> done, TimeSpan limit, Func<Task<string>> failure, int everyMilliseconds = 100)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            if (clock.Elapsed > limit) Assert.Fail($"{await failure()} (waited {limit})");
            await Task.Delay(everyMilliseconds);   // the poll's own pace, the one place a test waits between questions
        }
        return clock.Elapsed;
    }

    public static Task<TimeSpan> UntilAsync(Func<bool> done, TimeSpan limit, Func<string> failure, int everyMilliseconds = 100) =>
        UntilAsync(() => Task.FromResult(done()), limit, failure, everyMilliseconds);

    public static Task<TimeSpan> UntilAsync(Func<bool> done, TimeSpan limit, string failure, int everyMilliseconds = 100) =>
        UntilAsync(done, limit, () => failure, everyMilliseconds);
}
