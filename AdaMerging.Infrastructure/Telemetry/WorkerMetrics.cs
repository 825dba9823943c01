using Prometheus;

namespace AdaMerging.Infrastructure.Telemetry;

/// <summary>
/// What a worker process measures about the merges it runs (docs/api.md, "Observability"), in its host's own
/// registry so that several hosts in one process (tests) keep their figures apart.
/// </summary>
public sealed class WorkerMetrics
{
    public WorkerMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        var seconds = Histogram.ExponentialBuckets(0.05, 2, 18); // 50 ms … about 3.6 h
        MergeDuration = factory.CreateHistogram("adamerging_merge_duration_seconds", "Wall time of a merge attempt, by method and outcome",
            new HistogramConfiguration { LabelNames = ["method", "status"], Buckets = seconds });
        PhaseDuration = factory.CreateHistogram("adamerging_merge_phase_duration_seconds", "Wall time of a merge's phase, by method and phase",
            new HistogramConfiguration { LabelNames = ["method", "phase"], Buckets = seconds });
        Steps = factory.CreateCounter("adamerging_optimisation_steps_total",
            "AdaMerging optimisation steps taken, by method; steps per second is rate() of it", new CounterConfiguration { LabelNames = ["method"] });
        Running = factory.CreateGauge("adamerging_worker_merges_running", "Merges this worker process is running now");
        Failures = factory.CreateCounter("adamerging_merge_failures_total", "Merges that failed, by failure code",
            new CounterConfiguration { LabelNames = ["code"] });
    }

    public Gauge Running { get; }

    public Histogram MergeDuration { get; }

    public Histogram PhaseDuration { get; }

    public Counter Steps { get; }

    public Counter Failures { get; }
}
