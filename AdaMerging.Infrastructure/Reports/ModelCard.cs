using System.Globalization;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Merging;

namespace AdaMerging.Infrastructure.Reports;

/// <summary>
/// README.md in Hugging Face's model-card form beside the merged model: YAML front matter (base_model, tags,
/// library_name), the method and its options, the tasks and their inputs' SHA-256, accuracies beside the baselines, a
/// summary of the learned λ with the plots, and how to load the model.
/// </summary>
public static class ModelCard
{
    public const string FileName = "README.md";

    public static string Write(string directory, MergeReport report, string baseModel, string? transformersClass)
    {
        var card = new StringBuilder();
        card.Append("---\n").Append("base_model: ").Append(Yaml(baseModel)).Append('\n')
            .Append("library_name: transformers\n").Append("tags:\n- merge\n- adamerging\n- ").Append(report.Method.Replace('_', '-')).Append('\n')
            .Append("---\n\n");
        card.Append(CultureInfo.InvariantCulture, $"# {report.Method} of {report.TaskNames.Count} tasks over {baseModel}\n\n");
        card.Append(CultureInfo.InvariantCulture, $"Merged by AdaMerging as a service: {report.MergedTensors} tensors merged, {report.CarriedTensors} carried from the base unchanged.\n\n");
        card.Append("## Options\n\n| option | value |\n|---|---|\n");
        foreach (var (name, value) in report.Options.OrderBy(o => o.Key, StringComparer.Ordinal))
            card.Append(CultureInfo.InvariantCulture, $"| `{name}` | `{JsonSerializer.Serialize(value)}` |\n");
        if (report.Run is { } run)
        {
            card.Append("\n## Inputs\n\n| role | file | sha256 |\n|---|---|---|\n");
            foreach (var input in run.Inputs) card.Append(CultureInfo.InvariantCulture, $"| {input.Role} | `{input.File}` | `{input.Sha256}` |\n");
            card.Append(CultureInfo.InvariantCulture, $"\nRun on `{run.Device}` with {run.Threads} threads; AdaMerging {run.Version}, libtorch {run.Torch}.\n");
        }
        Accuracy(card, report);
        Coefficients(card, report);
        card.Append("\n## How to load\n\n```python\n").Append(transformersClass is { } c
            ? $"from transformers import {c}\nmodel = {c}.from_pretrained(\"path/to/this/folder\")\n"
            : "from safetensors.torch import load_file\nstate_dict = load_file(\"path/to/this/folder/model.safetensors\")\n").Append("```\n");
        if (report.Files.Contains("objective.png")) card.Append("\n![objective per step](objective.png)\n");
        if (report.Files.Contains("accuracy.png")) card.Append("\n![accuracy per task](accuracy.png)\n");
        File.WriteAllText(Path.Combine(directory, FileName), card.ToString());
        return FileName;
    }

    private static void Accuracy(StringBuilder card, MergeReport report)
    {
        if (report.Accuracy.Count == 0) return;
        static string P(double? v) => v is { } x ? (100 * x).ToString("F1", CultureInfo.InvariantCulture) : "–";
        card.Append("\n## Top-1 accuracy (%)\n\n| task | merged | base | individual | task arithmetic (λ 0.3) |\n|---|---:|---:|---:|---:|\n");
        foreach (var row in report.Accuracy.Append(report.Average).OfType<TaskAccuracy>())
            card.Append(CultureInfo.InvariantCulture, $"| {row.Task} | {P(row.Merged)} | {P(row.Base)} | {P(row.Individual)} | {P(row.TaskArithmetic)} |\n");
    }

    private static void Coefficients(StringBuilder card, MergeReport report)
    {
        if (report.Coefficients is not { Count: > 0 } rows) return;
        card.Append(CultureInfo.InvariantCulture, $"\n## Learned coefficients\n\nclamp(λ, 0, 1) over {rows.Count} row(s) (`coefficients.csv` has them all):\n\n")
            .Append("| task | min | mean | max |\n|---|---:|---:|---:|\n");
        for (int k = 0; k < report.TaskNames.Count; k++)
        {
            var values = rows.Select(r => r.Lambda[k]).ToList();
            card.Append(CultureInfo.InvariantCulture, $"| {report.TaskNames[k]} | {values.Min():F3} | {values.Average():F3} | {values.Max():F3} |\n");
        }
        card.Append("\n![learned λ, layers × tasks](lambda.png)\n");
    }

    private static string Yaml(string value) => JsonSerializer.Serialize(value); // a JSON string is a valid YAML scalar
}
