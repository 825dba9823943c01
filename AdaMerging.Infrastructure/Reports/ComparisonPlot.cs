using ScottPlot;

namespace AdaMerging.Infrastructure.Reports;

/// <summary>An experiment's averages as a bar chart: the baselines in grey, each configuration in colour, in the table's order.</summary>
public static class ComparisonPlot
{
    public static byte[] Png(ExperimentComparison comparison, string title)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var rows = comparison.Rows;
        bool accuracy = comparison.Metric == ComparisonMetric.Accuracy;
        var bars = rows.Select((r, i) => new Bar
        {
            Position = i,
            Value = r.Average is { } v ? (accuracy ? 100 * v : v) : 0,
            FillColor = r.MergeId is null ? Colors.Gray : palette.GetColor(i),
            Label = r.Average is { } a ? (accuracy ? (100 * a).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : a.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)) : "—",
        }).ToList();
        var series = plot.Add.Bars(bars);
        series.ValueLabelStyle.FontSize = 11;
        plot.Axes.Bottom.SetTicks([.. rows.Select((_, i) => (double)i)], [.. rows.Select(r => r.Label)]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = 30;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 140;
        plot.Title(title);
        plot.YLabel(accuracy ? "average top-1 accuracy (%)" : "average completion perplexity (lower is better)");
        plot.Axes.Margins(bottom: 0);
        return plot.GetImageBytes(Math.Max(640, 90 * rows.Count), 520, ImageFormat.Png);
    }
}
