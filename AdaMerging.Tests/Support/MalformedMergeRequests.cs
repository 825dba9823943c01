using System.Text;
using System.Text.Json.Nodes;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The corpus of bad merge requests: wrong types, absurd sizes, NaN, negative or huge step counts, thousands of tasks,
/// unknown methods and ids, broken JSON and wrong headers. Each is built against real uploaded ids, so that only the
/// named fault is wrong; each must be refused with a 4xx ProblemDetails and create no merge.
/// </summary>
public static class MalformedMergeRequests
{
    public sealed record Ids(string Base, string Task, string Head, string Data);

    /// <summary>A request body (raw bytes), its content type, and extra headers.</summary>
    public sealed record BadRequest(byte[] Body, string? ContentType = "application/json", IReadOnlyDictionary<string, string>? Headers = null);

    private static readonly Dictionary<string, Func<Ids, BadRequest>> Cases = Build();

    public static IReadOnlyCollection<string> Reasons => Cases.Keys;

    public static BadRequest For(string reason, Ids ids) => Cases[reason](ids);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Cases.Keys) data.Add(name);
        return data;
    }

    private static JsonObject Valid(Ids ids, string method = "task_arithmetic") => new()
    {
        ["method"] = method,
        ["base"] = ids.Base,
        ["tasks"] = new JsonArray(new JsonObject { ["name"] = "a", ["checkpoint"] = ids.Task, ["head"] = ids.Head, ["adaptationData"] = ids.Data, ["evaluationData"] = ids.Data }),
    };

    private static BadRequest Json(JsonNode node) => new(Encoding.UTF8.GetBytes(node.ToJsonString()));

    private static BadRequest Text(string text, string? contentType = "application/json") => new(Encoding.UTF8.GetBytes(text), contentType);

    private static Func<Ids, BadRequest> With(Action<JsonObject> change, string method = "task_arithmetic") => ids =>
    {
        var request = Valid(ids, method);
        change(request);
        return Json(request);
    };

    private static Func<Ids, BadRequest> Option(string name, JsonNode? value, string method = "adamerging") =>
        With(r => r["options"] = new JsonObject { [name] = value }, method);

    private static Func<Ids, BadRequest> TaskField(string name, JsonNode? value) =>
        With(r => ((JsonObject)r["tasks"]![0]!)[name] = value, "adamerging");

    private static Dictionary<string, Func<Ids, BadRequest>> Build()
    {
        var cases = new Dictionary<string, Func<Ids, BadRequest>>
        {
            // The body as a whole.
            ["empty body"] = _ => Text(""),
            ["JSON null"] = _ => Text("null"),
            ["JSON array"] = _ => Text("[]"),
            ["JSON number"] = _ => Text("42"),
            ["JSON string"] = _ => Text("\"merge\""),
            ["truncated JSON"] = ids => Text(Valid(ids).ToJsonString()[..20]),
            ["empty object"] = _ => Text("{}"),
            ["trailing garbage"] = ids => Text(Valid(ids).ToJsonString() + "}}"),
            ["JavaScript comment"] = ids => Text("/* hi */" + Valid(ids).ToJsonString()),
            ["single quotes"] = ids => Text(Valid(ids).ToJsonString().Replace('"', '\'')),
            ["invalid UTF-8"] = ids => new BadRequest([.. Encoding.UTF8.GetBytes("{\"method\":\"task_"), 0xff, 0xfe, .. Encoding.UTF8.GetBytes("arithmetic\"}")]),
            ["UTF-16 body"] = ids => new BadRequest(Encoding.Unicode.GetBytes(Valid(ids).ToJsonString())),
            ["nesting 10000 deep"] = _ => Text(string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000)),
            ["NaN literal"] = ids => Text(Valid(ids).ToJsonString().Replace("\"method\"", "\"options\":{\"lambda\":NaN},\"method\"")),
            ["Infinity literal"] = ids => Text(Valid(ids).ToJsonString().Replace("\"method\"", "\"options\":{\"lambda\":Infinity},\"method\"")),
            ["text/plain content type"] = ids => Text(Valid(ids).ToJsonString(), "text/plain"),
            ["no content type"] = ids => Text(Valid(ids).ToJsonString(), null),
            ["form content type"] = ids => Text("method=task_arithmetic&base=" + ids.Base, "application/x-www-form-urlencoded"),
            ["XML body"] = _ => Text("<merge method=\"task_arithmetic\"/>", "application/xml"),
            ["12 MB string field"] = With(r => r["method"] = new string('x', 12 << 20)),
            ["10 kB Idempotency-Key"] = ids => Json(Valid(ids)) with { Headers = new Dictionary<string, string> { ["Idempotency-Key"] = new string('k', 10_000) } },

            // method
            ["method missing"] = With(r => r.Remove("method")),
            ["method null"] = With(r => r["method"] = null),
            ["method a number"] = With(r => r["method"] = 42),
            ["method an array"] = With(r => r["method"] = new JsonArray("ties")),
            ["method an object"] = With(r => r["method"] = new JsonObject()),
            ["method empty"] = With(r => r["method"] = ""),
            ["method unknown"] = With(r => r["method"] = "fisher_merging"),
            ["method upper case"] = With(r => r["method"] = "TASK_ARITHMETIC"),
            ["method with a trailing space"] = With(r => r["method"] = "ties "),
            ["method 10 kB"] = With(r => r["method"] = new string('m', 10_000)),

            // base
            ["base missing"] = With(r => r.Remove("base")),
            ["base null"] = With(r => r["base"] = null),
            ["base a number"] = With(r => r["base"] = 7),
            ["base not a GUID"] = With(r => r["base"] = "model-v1"),
            ["base an empty GUID"] = With(r => r["base"] = Guid.Empty.ToString()),
            ["base unknown"] = With(r => r["base"] = Guid.NewGuid().ToString()),
            ["base is a head"] = ids => With(r => r["base"] = ids.Head)(ids),
            ["base is a dataset"] = ids => With(r => r["base"] = ids.Data)(ids),
            ["base path traversal"] = With(r => r["base"] = "../../etc/passwd"),

            // tasks
            ["tasks missing"] = With(r => r.Remove("tasks")),
            ["tasks null"] = With(r => r["tasks"] = null),
            ["tasks empty"] = With(r => r["tasks"] = new JsonArray()),
            ["tasks an object"] = With(r => r["tasks"] = new JsonObject()),
            ["tasks a string"] = With(r => r["tasks"] = "a,b"),
            ["a task null"] = With(r => r["tasks"] = new JsonArray((JsonNode?)null)),
            ["a task a number"] = With(r => r["tasks"] = new JsonArray(1)),
            ["5000 tasks"] = ids => With(r => r["tasks"] = new JsonArray([.. Enumerable.Range(0, 5000).Select(i => (JsonNode?)new JsonObject { ["name"] = $"t{i}", ["checkpoint"] = ids.Task })]))(ids),
            ["two tasks with one name"] = ids => With(r => r["tasks"] = new JsonArray(new JsonObject { ["name"] = "a", ["checkpoint"] = ids.Task }, new JsonObject { ["name"] = "a", ["checkpoint"] = ids.Task }))(ids),
            ["task name missing"] = TaskField("name", null),
            ["task name empty"] = TaskField("name", ""),
            ["task name a number"] = TaskField("name", 3),
            ["task name 10 kB"] = TaskField("name", new string('n', 10_000)),
            ["task name with a slash"] = TaskField("name", "a/b"),
            ["task name path traversal"] = TaskField("name", "../../x"),
            ["task name with a NUL"] = TaskField("name", "a\u0000b"),
            ["task checkpoint missing"] = With(r => ((JsonObject)r["tasks"]![0]!).Remove("checkpoint")),
            ["task checkpoint not a GUID"] = TaskField("checkpoint", "finetuned"),
            ["task checkpoint unknown"] = TaskField("checkpoint", Guid.NewGuid().ToString()),
            ["task checkpoint a number"] = TaskField("checkpoint", 1),
            ["task checkpoint is a dataset"] = ids => TaskField("checkpoint", ids.Data)(ids),
            ["task head unknown"] = TaskField("head", Guid.NewGuid().ToString()),
            ["task head not a GUID"] = TaskField("head", "head.safetensors"),
            ["task head is a checkpoint"] = ids => TaskField("head", ids.Task)(ids),
            ["task adaptation data unknown"] = TaskField("adaptationData", Guid.NewGuid().ToString()),
            ["task adaptation data is a head"] = ids => TaskField("adaptationData", ids.Head)(ids),
            ["task evaluation data unknown"] = TaskField("evaluationData", Guid.NewGuid().ToString()),
            ["task evaluation data not a GUID"] = TaskField("evaluationData", "test-set"),
            ["AdaMerging without heads"] = With(r => ((JsonObject)r["tasks"]![0]!).Remove("head"), "adamerging"),
            ["AdaMerging without adaptation data"] = With(r => ((JsonObject)r["tasks"]![0]!).Remove("adaptationData"), "adamerging"),

            // callbackUrl
            ["callback not a URL"] = With(r => r["callbackUrl"] = "not a url"),
            ["callback ftp"] = With(r => r["callbackUrl"] = "ftp://example.com/done"),
            ["callback file"] = With(r => r["callbackUrl"] = "file:///etc/passwd"),
            ["callback javascript"] = With(r => r["callbackUrl"] = "javascript:alert(1)"),
            ["callback relative"] = With(r => r["callbackUrl"] = "/done"),
            ["callback 5 kB"] = With(r => r["callbackUrl"] = "https://example.com/" + new string('c', 5000)),
            ["callback a number"] = With(r => r["callbackUrl"] = 80),

            // options as a whole
            ["options an array"] = With(r => r["options"] = new JsonArray()),
            ["options a string"] = With(r => r["options"] = "fast"),
            ["options a number"] = With(r => r["options"] = 1),
        };

        // Every numeric option: wrong type, NaN, ±∞ spelt as strings, negative, huge, and a fraction where an integer belongs.
        string[] doubles = ["lambda", "topK", "dropRate", "initialLambda", "learningRate", "beta1", "beta2", "epsilon"];
        foreach (var name in doubles)
        {
            cases[$"{name} a word"] = Option(name, "high");
            cases[$"{name} NaN"] = Option(name, "NaN");
            cases[$"{name} Infinity"] = Option(name, "Infinity");
            cases[$"{name} -1e300"] = Option(name, -1e300);
            cases[$"{name} 1e300"] = Option(name, 1e300);
            cases[$"{name} an object"] = Option(name, new JsonObject());
        }
        foreach (var name in (string[])["steps", "batchSize", "evaluationBatchSize"])
        {
            cases[$"{name} negative"] = Option(name, -5);
            cases[$"{name} huge"] = Option(name, 1_000_000_000);
            cases[$"{name} beyond int"] = Option(name, 1e12);
            cases[$"{name} a fraction"] = Option(name, 2.5);
            cases[$"{name} a word"] = Option(name, "many");
        }
        cases["steps zero batch"] = With(r => r["options"] = new JsonObject { ["steps"] = 10, ["batchSize"] = 0 }, "adamerging");
        cases["seed a word"] = Option("seed", "lucky");
        cases["seed a fraction"] = Option("seed", 1.5);
        cases["seed beyond long"] = Option("seed", 1e30);
        cases["shardBytes tiny"] = Option("shardBytes", 10);
        cases["shardBytes negative"] = Option("shardBytes", -1);
        cases["granularity unknown"] = Option("granularity", "neuron");
        cases["granularity a number"] = Option("granularity", 2);
        cases["layerUnit unknown"] = Option("layerUnit", "head");
        cases["objective unknown"] = Option("objective", "cross_entropy");
        cases["objective in the wrong case"] = Option("objective", "ExpertKl");
        cases["batchNormStatistics unknown"] = Option("batchNormStatistics", "freeze");
        cases["batchNormStatistics a boolean"] = Option("batchNormStatistics", true);
        cases["maxSequenceLength negative"] = Option("maxSequenceLength", -1);
        cases["maxSequenceLength a fraction"] = Option("maxSequenceLength", 12.5);
        cases["embeddingRows not a choice"] = Option("embeddingRows", "task");
        cases["output not a choice"] = Option("output", "gguf");
        cases["loraRank zero"] = Option("loraRank", 0);
        cases["plus a word"] = Option("plus", "yes");
        cases["plus a number"] = Option("plus", 1);
        cases["checkpointing a word"] = Option("checkpointing", "on");
        cases["checkpointing a number"] = Option("checkpointing", 1);
        cases["tiesMerge unknown"] = Option("tiesMerge", "median", "ties");
        cases["dareBase unknown"] = Option("dareBase", "fisher", "dare");
        cases["precision unknown"] = Option("precision", "fp8");
        cases["precision a number"] = Option("precision", 16);
        cases["exclude a string"] = Option("exclude", "^vision");
        cases["exclude holds a number"] = Option("exclude", new JsonArray(42));
        cases["exclude an invalid regex"] = Option("exclude", new JsonArray("(unclosed"));
        cases["exclude 10000 patterns"] = Option("exclude", new JsonArray([.. Enumerable.Range(0, 10_000).Select(i => (JsonNode?)$"p{i}")]));
        cases["alpha a word"] = Option("alpha", "strong", "tsv");
        cases["alpha beyond its range"] = Option("alpha", 1e6, "iso_c");
        cases["rankShare negative"] = Option("rankShare", -0.1, "tsv");
        cases["rankShare over a task's share of the rank"] = With(r =>
        {
            r["options"] = new JsonObject { ["rankShare"] = 0.9 };   // two tasks: at most 1/2
            var tasks = (JsonArray)r["tasks"]!;
            var second = tasks[0]!.DeepClone().AsObject();
            second["name"] = "b";
            tasks.Add(second);
        }, "tsv");
        cases["lambdaRange one number"] = Option("lambdaRange", new JsonArray(1.0));
        cases["lambdaRange low above high"] = Option("lambdaRange", new JsonArray(2.0, 1.0));
        cases["lambdaRange beyond 10"] = Option("lambdaRange", new JsonArray(0.0, 11.0));
        cases["lambdaBound unknown"] = Option("lambdaBound", "reflect");
        cases["adarank base unknown"] = Option("base", "ties", "adarank");
        cases["initialRankRatio zero"] = Option("initialRankRatio", 0, "adarank");
        cases["maskTemperature zero"] = Option("maskTemperature", 0, "adarank");
        cases["maskEstimator unknown"] = Option("maskEstimator", "gumbel", "adarank");
        cases["adarank without adaptationData"] = With(r => ((JsonObject)r["tasks"]![0]!).Remove("adaptationData"), "adarank");
        cases["iterations negative"] = Option("iterations", -1, "wudi");
        cases["excludeMatrices not a pattern"] = Option("excludeMatrices", new JsonArray("("), "wudi");
        cases["commonSpaceFraction above 1"] = Option("commonSpaceFraction", 1.5, "iso_cts");
        cases["batchesPerStep zero"] = Option("batchesPerStep", 0);
        cases["reduceNonDiagonalRatio above 1"] = Option("reduceNonDiagonalRatio", 1.5, "regmean");
        cases["regmeanExamples zero"] = Option("regmeanExamples", 0, "regmean");
        cases["regmean without adaptationData"] = With(r => ((JsonObject)r["tasks"]![0]!).Remove("adaptationData"), "regmean");
        cases["vectors unknown"] = Option("vectors", "dare");
        cases["vectors tsv with plus"] = With(r => r["options"] = new JsonObject { ["plus"] = true, ["vectors"] = "tsv" }, "adamerging");
        cases["unknown option"] = Option("temperature", 0.5);
        cases["steps for a method without it"] = Option("steps", 10, "task_arithmetic");
        cases["seed of DARE a fraction"] = Option("seed", 1.5, "dare");
        cases["coefficients a word"] = Option("coefficients", "high");
        cases["coefficients rows of different lengths"] = Option("coefficients", new JsonObject { ["a"] = new JsonArray(0.1, 0.2), ["b"] = new JsonArray(0.3) });
        cases["coefficients with NaN spelt as a string"] = Option("coefficients", new JsonArray("NaN"));
        cases["coefficientsFrom not a merge id"] = Option("coefficientsFrom", "yesterday");
        cases["coefficientsFrom a merge that does not exist"] = Option("coefficientsFrom", Guid.NewGuid().ToString());
        return cases;
    }
}
