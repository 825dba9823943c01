using System.Globalization;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Infrastructure.Reports;

/// <summary>
/// README.md in Hugging Face's model-card form beside the merged model: YAML front matter (base_model listing the base
/// and every task's checkpoint, merge_method, its options, the inputs' SHA-256, tags, library_name), the method and its options, the tasks and their inputs' SHA-256, accuracies beside the baselines, a
/// summary of the learned λ with the plots, and how to load the model.
/// </summary>
public static class ModelCard
{
    public const string FileName = "README.md";

    /// <param name="loraInputs">Some task was a LoRA adapter: tagged <c>lora</c>.</param>
    public static string Write(string directory, MergeReport report, MergePlan plan, string? transformersClass, bool loraInputs)
    {
        var baseModel = plan.BaseName;
        var card = new StringBuilder("---\n");
        FrontMatter(card, report, plan, loraInputs);
        card.Append("---\n\n");
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
        Vocabulary(card, report);
        Accuracy(card, report);
        Completions(card, report);
        Coefficients(card, report);
        LoraSection(card, report);
        card.Append("\n## How to load\n\n```python\n").Append(report.Lora is not null
            ? $"from peft import PeftModel\nfrom transformers import {transformersClass ?? "AutoModel"}\nbase = {transformersClass ?? "AutoModel"}.from_pretrained({Json(baseModel)})\n"
                + "model = PeftModel.from_pretrained(base, \"path/to/this/folder\")\n"
            : transformersClass is { } c
            ? $"from transformers import {c}\nmodel = {c}.from_pretrained(\"path/to/this/folder\")\n"
            : "from safetensors.torch import load_file\nstate_dict = load_file(\"path/to/this/folder/model.safetensors\")\n").Append("```\n");
        if (report.Files.Contains("objective.png")) card.Append("\n![objective per step](objective.png)\n");
        if (report.Files.Contains("accuracy.png")) card.Append("\n![accuracy per task](accuracy.png)\n");
        File.WriteAllText(Path.Combine(directory, FileName), card.ToString());
        return FileName;
    }

    /// <summary>
    /// What a model hub reads: the base and every task's checkpoint as <c>base_model</c> (a merge of them:
    /// <c>base_model_relation: merge</c>), <c>merge_method</c> and its options, each input file's SHA-256, and tags.
    /// </summary>
    private static void FrontMatter(StringBuilder card, MergeReport report, MergePlan plan, bool loraInputs)
    {
        card.Append("base_model:\n");
        foreach (var model in plan.Tasks.Select(t => t.CheckpointName ?? t.Name).Prepend(plan.BaseName).Distinct(StringComparer.Ordinal))
            card.Append("- ").Append(Yaml(model)).Append('\n');
        card.Append("base_model_relation: merge\n").Append("merge_method: ").Append(report.Method).Append('\n')
            .Append("merge_options: ").Append(Json(report.Options.OrderBy(o => o.Key, StringComparer.Ordinal).ToDictionary())).Append('\n');
        if (report.Run is { } run)
        {
            card.Append("merge_inputs:\n");
            foreach (var input in run.Inputs)
                card.Append("- ").Append(Json(new { role = input.Role, file = input.File, sha256 = input.Sha256 })).Append('\n');
        }
        card.Append("library_name: ").Append(report.Lora is null ? "transformers" : "peft").Append('\n')
            .Append("tags:\n- merge\n- adamerging\n- ").Append(report.Method.Replace('_', '-')).Append('\n');
        if (loraInputs || report.Lora is not null) card.Append("- lora\n");
    }

    private static void LoraSection(StringBuilder card, MergeReport report)
    {
        if (report.Lora is not { } lora) return;
        card.Append(CultureInfo.InvariantCulture, $"\n## LoRA\n\nThe merge's delta from the base as a rank-{lora.Rank} LoRA over {lora.Tensors.Count} matrices (truncated SVD); ")
            .Append("relative reconstruction error ‖Δ − B·A‖ / ‖Δ‖, largest first (`report.json` has every matrix):\n\n| tensor | rank | error |\n|---|---:|---:|\n");
        foreach (var t in lora.Tensors.OrderByDescending(t => t.RelativeError).Take(10))
            card.Append(CultureInfo.InvariantCulture, $"| `{t.Tensor}` | {t.Rank} | {t.RelativeError:G3} |\n");
        if (lora.LeftOut.Count > 0)
            card.Append(CultureInfo.InvariantCulture, $"\n{lora.LeftOut.Count} changed tensors are not matrices and are not in the adapter: ")
                .AppendJoin(", ", lora.LeftOut.Select(l => $"`{l.Tensor}`")).Append(".\n");
    }

    private static void Vocabulary(StringBuilder card, MergeReport report)
    {
        if (report.DroppedRows is not { Count: > 0 } dropped) return;
        card.Append("\n## Vocabulary\n\nThe base's rows were merged (`embeddingRows: base`); the tasks' added tokens were dropped:\n\n")
            .Append("| task | tensor | task's rows | base's rows |\n|---|---|---:|---:|\n");
        foreach (var d in dropped) card.Append(CultureInfo.InvariantCulture, $"| {d.Task} | `{d.Tensor}` | {d.TaskRows} | {d.BaseRows} |\n");
    }

    private static void Accuracy(StringBuilder card, MergeReport report)
    {
        if (report.Accuracy.Count == 0) return;
        static string P(double? v) => v is { } x ? (100 * x).ToString("F1", CultureInfo.InvariantCulture) : "–";
        card.Append("\n## Top-1 accuracy (%)\n\n| task | merged | base | individual | task arithmetic (λ 0.3) |\n|---|---:|---:|---:|---:|\n");
        foreach (var row in report.Accuracy.Append(report.Average).OfType<TaskAccuracy>())
            card.Append(CultureInfo.InvariantCulture, $"| {row.Task} | {P(row.Merged)} | {P(row.Base)} | {P(row.Individual)} | {P(row.TaskArithmetic)} |\n");
    }

    /// <summary>Language-model tasks: perplexity and exact match per model, the average's perplexity being exp of the mean NLL.</summary>
    private static void Completions(StringBuilder card, MergeReport report)
    {
        if (report.Completions is not { Count: > 0 } rows) return;
        static string Q(CompletionQuality? q) => q is null ? "– | –"
            : string.Create(CultureInfo.InvariantCulture, $"{q.Perplexity:G4} | {100 * q.ExactMatch:F1}");
        card.Append("\n## Completions: perplexity and exact match (%)\n\n")
            .Append("| task | merged | | base | | individual | | task arithmetic (λ 0.3) | |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        foreach (var row in rows.Append(report.CompletionsAverage).OfType<TaskCompletions>())
            card.Append(CultureInfo.InvariantCulture, $"| {row.Task} | {Q(row.Merged)} | {Q(row.Base)} | {Q(row.Individual)} | {Q(row.TaskArithmetic)} |\n");
    }

    private static void Coefficients(StringBuilder card, MergeReport report)
    {
        if (report.Coefficients is not { Count: > 0 } rows) return;
        card.Append(CultureInfo.InvariantCulture, $"\n## Learned coefficients\n\nλ as merged over {rows.Count} row(s) (`coefficients.csv` has them all):\n\n")
            .Append("| task | min | mean | max |\n|---|---:|---:|---:|\n");
        for (int k = 0; k < report.TaskNames.Count; k++)
        {
            var values = rows.Select(r => r.Lambda[k]).ToList();
            card.Append(CultureInfo.InvariantCulture, $"| {report.TaskNames[k]} | {values.Min():F3} | {values.Average():F3} | {values.Max():F3} |\n");
        }
        card.Append("\n![learned λ, layers × tasks](lambda.png)\n");
        if (report.KeptRanks is not { Count: > 0 } ranks) return;
        card.Append(CultureInfo.InvariantCulture, $"\nSingular components kept of {ranks.Sum(r => r.Rank)} per task over {ranks.Count} matrices:\n\n| task | kept | share |\n|---|---:|---:|\n");
        for (int k = 0; k < report.TaskNames.Count; k++)
        {
            int kept = ranks.Sum(r => r.Kept[k]);
            card.Append(CultureInfo.InvariantCulture, $"| {report.TaskNames[k]} | {kept} | {kept / (double)ranks.Sum(r => r.Rank):P1} |\n");
        }
        card.Append("\n![kept singular components, matrices × tasks](ranks.png)\n");
    }

    private static string Yaml(string value) => Json(value); // a JSON string is a valid YAML scalar

    /// <summary>JSON (which YAML reads) keeping quotes and non-ASCII letters as they are, for people reading the card.</summary>
    private static string Json<T>(T value) => JsonSerializer.Serialize(value, Readable);

    private static readonly JsonSerializerOptions Readable = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
