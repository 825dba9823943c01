using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Methods;

namespace AdaMerging.Infrastructure.Runs;

/// <summary>
/// The baseline columns' scores (<see cref="IBaselineScores"/>) as one JSON file per key in
/// <c>{DataRoot}/baselines/</c>, written to a temporary file and renamed over, so a reader sees a whole score or none.
/// A key is the sha256 of everything the score depends on (<see cref="KeysFor"/>), so nothing is ever invalidated: other
/// inputs make another key.
/// </summary>
public sealed class BaselineScoreFiles(string directory) : IBaselineScores
{
    public const string FolderName = "baselines";

    public bool TryGet<T>(string key, out T? value)
    {
        value = default;
        try
        {
            value = JsonSerializer.Deserialize<T>(File.ReadAllText(PathOf(key)), JsonSerializerOptions.Web);
            return value is not null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return false;   // missing or unreadable: evaluated again
        }
    }

    public void Put<T>(string key, T value)
    {
        try
        {
            Directory.CreateDirectory(directory);
            string temp = PathOf(key) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(value, JsonSerializerOptions.Web));
            File.Move(temp, PathOf(key), overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // not remembered: the next merge over these inputs evaluates again
        }
    }

    private string PathOf(string key) => Path.Combine(directory, key + ".json");

    /// <summary>
    /// The key of each (column, task): the sha256 of the service's and torch's versions, the device, the base's files'
    /// digests, the options that change a baseline (exclude, batch-norm statistics, sequence length, embedding rows),
    /// every task's checkpoint digests (they decide which tensors are merged) and task k's head and evaluation data;
    /// task arithmetic's λ too. Null where the task has no evaluation data.
    /// </summary>
    public static Func<BaselineColumn, int, string?> KeysFor(MergePlan plan, RunRecord record)
    {
        string Digests(string role) => string.Join(",", record.Inputs.Where(i => i.Role == role).Select(i => $"{i.File}={i.Sha256}"));
        string[] ignored = [CommonOptions.EvaluationBatchSize.Name, CommonOptions.ShardBytes.Name, CommonOptions.Output.Name, CommonOptions.LoraRank.Name];
        var wire = plan.Options.Wire(plan.Method);
        var settings = CommonOptions.All.Where(o => !ignored.Contains(o.Name)).Select(o => $"{o.Name}={JsonSerializer.Serialize(wire[o.Name])}");
        string shared = $"adamerging-baseline-1|{record.Version}|{record.Torch}|{record.Device}|base:{Digests("base")}|{string.Join(";", settings)}";
        string tasks = string.Join("|", plan.Tasks.Select(t => Digests($"task '{t.Name}'")));
        return (column, k) =>
        {
            string task = $"task '{plan.Tasks[k].Name}'";
            string data = Digests(task + " evaluation data");
            if (data.Length == 0) return null;
            string models = column switch
            {
                BaselineColumn.Base => Digests(task),
                BaselineColumn.Individual => tasks,
                _ => $"{tasks}|λ={TaskArithmeticMethod.Lambda.DefaultValue:R}",
            };
            string text = $"{shared}|{column}|k={k}|{models}|head:{Digests(task + " head")}|data:{data}";
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        };
    }
}
