using System.Net;
using System.Text.Json;
using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Telemetry;

/// <summary>
/// The worker's /health/live and /health/ready beside its /metrics (AdaMerging:WorkerMetricsPort; 0: none). Ready is
/// 200 with each check, or 503 naming the one that failed (<see cref="WorkerReadiness"/>).
/// </summary>
public sealed class WorkerHealthServer(WorkerReadiness readiness, IOptions<AdaMergingOptions> options) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.WorkerMetricsPort <= 0) return;
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://{options.Value.WorkerMetricsHost}:{options.Value.WorkerMetricsPort}/health/");
        listener.Start();
        await using var stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return; // stopped
            }
            await AnswerAsync(context, stoppingToken);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context, CancellationToken ct)
    {
        using var response = context.Response;
        var path = context.Request.Url?.AbsolutePath.TrimEnd('/') ?? "";
        if (path == "/health/live")
        {
            await WriteAsync(response, 200, "text/plain", "Healthy", ct);
            return;
        }
        if (path != "/health/ready")
        {
            await WriteAsync(response, 404, "text/plain", "", ct);
            return;
        }
        var checks = await readiness.CheckAsync(ct);
        var ready = checks.Values.All(c => c.Passed);
        var body = JsonSerializer.Serialize(new
        {
            status = ready ? "Healthy" : "Unhealthy",
            checks = checks.ToDictionary(c => c.Key, c => new { status = c.Value.Passed ? "Healthy" : "Unhealthy", description = c.Value.Description }),
        });
        await WriteAsync(response, ready ? 200 : 503, "application/json", body, ct);
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string type, string body, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = type;
        var bytes = System.Text.Encoding.UTF8.GetBytes(body);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes, ct);
    }
}
