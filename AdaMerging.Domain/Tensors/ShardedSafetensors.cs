using System.Text.Json;
using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// A model sharded as model-0000i-of-0000N.safetensors with model.safetensors.index.json; tensors are read from
/// their shard on demand. Every tensor of the index must be in its shard, and no tensor may be in two shards.
/// </summary>
public sealed class ShardedSafetensors : ITensorSource
{
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, SafetensorsFile> _shardOf;
    private readonly List<SafetensorsFile> _shards;

    private ShardedSafetensors(List<SafetensorsFile> shards, Dictionary<string, SafetensorsFile> shardOf)
    {
        _shards = shards;
        _shardOf = shardOf;
        Tensors = shards.SelectMany(s => s.Tensors.Where(t => shardOf.ContainsKey(t.Name))).ToList();
    }

    public IReadOnlyList<TensorInfo> Tensors { get; }

    /// <summary>The shard file names the index maps tensors to, in first-use order.</summary>
    public static IReadOnlyList<string> ShardNames(string indexPath) =>
        ReadWeightMap(indexPath).Values.Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Opens the index and its shards; <paramref name="resolve"/> maps a shard's file name to its path.</summary>
    public static ShardedSafetensors Open(string indexPath, Func<string, string?> resolve)
    {
        var weightMap = ReadWeightMap(indexPath);
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (var file in weightMap.Values.Distinct(StringComparer.Ordinal))
            {
                var path = resolve(file) ?? throw new SafetensorsFormatException($"{IndexFileName} names shard '{file}', which is missing");
                shards[file] = SafetensorsFile.Open(path);
            }
            var shardOf = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
            foreach (var (tensor, file) in weightMap)
            {
                if (shards[file].Find(tensor) is null)
                    throw new SafetensorsFormatException($"tensor '{tensor}': {IndexFileName} puts it in '{file}', which does not hold it");
                shardOf[tensor] = shards[file];
            }
            foreach (var (file, shard) in shards)
                foreach (var t in shard.Tensors.Where(t => !weightMap.ContainsKey(t.Name)))
                    throw new SafetensorsFormatException($"tensor '{t.Name}' is in shard '{file}' but not in {IndexFileName}");
            return new ShardedSafetensors(shards.Values.ToList(), shardOf);
        }
        catch
        {
            foreach (var shard in shards.Values) shard.Dispose();
            throw;
        }
    }

    public TensorInfo? Find(string name) => _shardOf.TryGetValue(name, out var shard) ? shard.Find(name) : null;

    public torch.Tensor Read(string name, torch.ScalarType? convertTo = null) =>
        _shardOf.TryGetValue(name, out var shard)
            ? shard.Read(name, convertTo)
            : throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");

    public void ReadInto(string name, torch.Tensor destination)
    {
        if (!_shardOf.TryGetValue(name, out var shard)) throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");
        shard.ReadInto(name, destination);
    }

    public torch.Tensor ReadRowRange(string name, long firstRow, long rows, torch.ScalarType? convertTo = null) =>
        _shardOf.TryGetValue(name, out var shard)
            ? shard.ReadRowRange(name, firstRow, rows, convertTo)
            : throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");

    public void ReadRowRangeInto(string name, long firstRow, long rows, torch.Tensor destination)
    {
        if (!_shardOf.TryGetValue(name, out var shard)) throw new KeyNotFoundException($"tensor '{name}' is not in the checkpoint");
        shard.ReadRowRangeInto(name, firstRow, rows, destination);
    }

    public void Dispose() => _shards.ForEach(s => s.Dispose());

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            using var stream = File.OpenRead(indexPath);
            if (stream.Length > SafetensorsHeader.MaxHeaderLength)
                throw new SafetensorsFormatException($"{IndexFileName} is larger than {SafetensorsHeader.MaxHeaderLength} bytes");
            using var json = JsonDocument.Parse(stream);
            if (!json.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException($"{IndexFileName} has no weight_map object");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.String)
                    throw new SafetensorsFormatException($"{IndexFileName}: weight_map '{entry.Name}' is not a file name");
                var file = entry.Value.GetString()!;
                if (file != Path.GetFileName(file) || !file.EndsWith(".safetensors", StringComparison.Ordinal))
                    throw new SafetensorsFormatException($"{IndexFileName}: weight_map '{entry.Name}' names '{file}', which is not a .safetensors file beside the index");
                if (!result.TryAdd(entry.Name, file))
                    throw new SafetensorsFormatException($"{IndexFileName}: tensor '{entry.Name}' appears twice in weight_map");
            }
            if (result.Count == 0) throw new SafetensorsFormatException($"{IndexFileName}: weight_map is empty");
            return result;
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException($"{IndexFileName} is not valid JSON ({e.Message})", e);
        }
    }
}
