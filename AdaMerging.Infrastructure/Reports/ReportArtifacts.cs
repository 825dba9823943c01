using System.Globalization;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using ScottPlot;

namespace AdaMerging.Infrastructure.Reports;

/// <summary>
/// What a person reads beside report.json: the learned coefficients as JSON and CSV (with layer names), and PNG plots
/// of λ (layers × tasks), AdaRank's kept ranks (matrices × tasks), the objective per step, and each task's accuracy for the merged model beside the base,
/// the individual models and task arithmetic.
/// </summary>
public static class ReportArtifacts
{
    /// <summary>Writes the artifacts the report has data for beside the merged model; returns their file names.</summary>
    public static IReadOnlyList<string> Write(string directory, MergeReport report)
    {
        var files = new List<string>();
        if (report.Coefficients is { Count: > 0 } coefficients)
        {
            File.WriteAllText(Path.Combine(directory, "coefficients.json"), JsonSerializer.Serialize(
                new { tasks = report.TaskNames, layers = coefficients, keptRanks = report.KeptRanks }, JsonSerializerOptions.Web));
            File.WriteAllText(Path.Combine(directory, "coefficients.csv"), Csv(report.TaskNames, coefficients));
            LambdaHeatmap(report.TaskNames, coefficients).SavePng(Path.Combine(directory, "lambda.png"), 900, Math.Clamp(120 + 6 * coefficients.Count, 300, 2400));
            files.AddRange(["coefficients.json", "coefficients.csv", "lambda.png"]);
        }
        if (report.KeptRanks is { Count: > 0 } ranks)
        {
            KeptRankHeatmap(report.TaskNames, ranks).SavePng(Path.Combine(directory, "ranks.png"), 900, Math.Clamp(120 + 6 * ranks.Count, 300, 2400));
            files.Add("ranks.png");
        }
        if (report.ObjectivePerStep.Count > 0)
        {
            Objective(report.ObjectivePerStep).SavePng(Path.Combine(directory, "objective.png"), 800, 450);
            files.Add("objective.png");
        }
        if (report.Accuracy.Count > 0)
        {
            Accuracy(report.Accuracy).SavePng(Path.Combine(directory, "accuracy.png"), 900, 450);
            files.Add("accuracy.png");
        }
        return files;
    }

    private static string Csv(IReadOnlyList<string> tasks, IReadOnlyList<LayerCoefficients> rows)
    {
        static string Field(string s) => s.Contains(',', StringComparison.Ordinal) || s.Contains('"', StringComparison.Ordinal) ? $"\"{s.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : s;
        var csv = new StringBuilder("layer," + string.Join(',', tasks.Select(Field)) + "\n");
        foreach (var row in rows)
            csv.Append(Field(row.Layer)).Append(',').AppendJoin(',', row.Lambda.Select(v => v.ToString("R", CultureInfo.InvariantCulture))).Append('\n');
        return csv.ToString();
    }

    private static Plot LambdaHeatmap(IReadOnlyList<string> tasks, IReadOnlyList<LayerCoefficients> rows)
    {
        var values = new double[rows.Count, tasks.Count];
        for (int r = 0; r < rows.Count; r++)
            for (int k = 0; k < tasks.Count; k++) values[r, k] = rows[r].Lambda[k];
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        plot.Title("learned λ (clamped), layers × tasks");
        plot.XLabel("task");
        plot.YLabel("layer (row of coefficients.csv)");
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, tasks.Count).Select(i => (double)i).ToArray(), [.. tasks]);
        return plot;
    }

    /// <summary>AdaRank's masks: the share of each matrix's singular components each task keeps.</summary>
    private static Plot KeptRankHeatmap(IReadOnlyList<string> tasks, IReadOnlyList<KeptRank> rows)
    {
        var values = new double[rows.Count, tasks.Count];
        for (int r = 0; r < rows.Count; r++)
            for (int k = 0; k < tasks.Count; k++) values[r, k] = rows[r].Kept[k] / (double)rows[r].Rank;
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        plot.Title("kept singular components (share of the rank), matrices × tasks");
        plot.XLabel("task");
        plot.YLabel("matrix (keptRanks in coefficients.json)");
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, tasks.Count).Select(i => (double)i).ToArray(), [.. tasks]);
        return plot;
    }

    private static Plot Objective(IReadOnlyList<double> objective)
    {
        var plot = new Plot();
        plot.Add.Scatter(Enumerable.Range(1, objective.Count).Select(i => (double)i).ToArray(), objective.ToArray());
        plot.Title("objective: summed prediction entropy per step");
        plot.XLabel("step");
        plot.YLabel("entropy");
        return plot;
    }

    private static Plot Accuracy(IReadOnlyList<TaskAccuracy> rows)
    {
        var plot = new Plot();
        var series = new (string Name, Func<TaskAccuracy, double?> Value)[]
        {
            ("base", r => r.Base), ("task arithmetic", r => r.TaskArithmetic), ("merged", r => r.Merged), ("individual", r => r.Individual),
        };
        var palette = new ScottPlot.Palettes.Category10();
        for (int s = 0; s < series.Length; s++)
        {
            var bars = rows.Select((r, i) => new Bar
            {
                Position = i * (series.Length + 1) + s,
                Value = 100 * (series[s].Value(r) ?? 0),
                FillColor = palette.GetColor(s),
            }).ToList();
            plot.Add.Bars(bars).LegendText = series[s].Name;
        }
        plot.Axes.Bottom.SetTicks(rows.Select((_, i) => i * (series.Length + 1) + 1.5).ToArray(), rows.Select(r => r.Task).ToArray());
        plot.Title("top-1 accuracy per task (%)");
        plot.ShowLegend();
        plot.Axes.Margins(bottom: 0);
        return plot;
    }
}
