using System.Globalization;

namespace AdaMerging.Tests.Support;

/// <summary>Samples of a Prometheus text-format scrape, by series ("name{label="value",…}" exactly as exposed).</summary>
public static class PrometheusText
{
    public static async Task<IReadOnlyDictionary<string, double>> ScrapeAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK && response.Content.Headers.ContentType?.MediaType == "text/plain",
            $"{url}: {(int)response.StatusCode} {response.Content.Headers.ContentType} {text[..Math.Min(text.Length, 500)]}");
        return Parse(text);
    }

    public static IReadOnlyDictionary<string, double> Parse(string text)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#')) continue;
            var space = line.LastIndexOf(' ');
            Assert.True(space > 0, $"not a sample line: '{line}'");
            samples[line[..space]] = double.Parse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    /// <summary>A series' value, 0 when the scrape does not have it yet (counters start at their first increment).</summary>
    public static double Of(this IReadOnlyDictionary<string, double> samples, string series) => samples.GetValueOrDefault(series);
}
