using System.Globalization;
using System.Text.Json;
using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// Writes a state dict as one model.safetensors, or, past <paramref name="maxShardBytes"/>, as
/// model-0000i-of-0000N.safetensors shards with model.safetensors.index.json. Shards are planned from the layout
/// up front, so each shard is written once, in order, and appears (atomically) only when complete.
/// </summary>
public sealed class ShardedSafetensorsWriter : IDisposable
{
    public const string SingleFileName = "model.safetensors";

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };

    private readonly string _directory;
    private readonly List<List<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)>> _plan;
    private readonly List<string> _fileNames;
    private SafetensorsWriter? _current;
    private int _shard = -1;
    private int _inShard;

    public ShardedSafetensorsWriter(string directory, IReadOnlyList<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)> layout,
        long maxShardBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        _directory = directory;
        _plan = Plan(layout, maxShardBytes);
        _fileNames = _plan.Count == 1
            ? [SingleFileName]
            : _plan.Select((_, i) => string.Create(CultureInfo.InvariantCulture, $"model-{i + 1:D5}-of-{_plan.Count:D5}.safetensors")).ToList();
        Directory.CreateDirectory(directory);
    }

    /// <summary>The files this writer produces, the index last when there are shards.</summary>
    public IReadOnlyList<string> FileNames => _plan.Count == 1 ? _fileNames : [.. _fileNames, ShardedSafetensors.IndexFileName];

    public void Write(string name, torch.Tensor tensor)
    {
        Next(name).Write(name, tensor);
        _inShard++;
    }

    /// <summary>The next tensor from consecutive slices along its first dimension (<see cref="SafetensorsWriter.WriteRows"/>).</summary>
    public void WriteRows(string name, torch.ScalarType dtype, IEnumerable<torch.Tensor> slices)
    {
        Next(name).WriteRows(name, dtype, slices);
        _inShard++;
    }

    /// <summary>The shard the next tensor goes to, the one before committed when it is full.</summary>
    private SafetensorsWriter Next(string name)
    {
        if (_current is null || _inShard == _plan[_shard].Count)
        {
            _current?.Commit();
            _current?.Dispose();
            _shard++;
            if (_shard >= _plan.Count) throw new InvalidOperationException($"tensor '{name}' is beyond the declared layout");
            _current = new SafetensorsWriter(Path.Combine(_directory, _fileNames[_shard]), _plan[_shard]);
            _inShard = 0;
        }
        return _current;
    }

    public void Commit()
    {
        if (_shard != _plan.Count - 1 || _inShard != _plan[_shard].Count)
            throw new InvalidOperationException("not every declared tensor was written");
        _current!.Commit();
        if (_plan.Count > 1) WriteIndex();
    }

    public void Dispose() => _current?.Dispose();

    private void WriteIndex()
    {
        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < _plan.Count; i++)
            foreach (var t in _plan[i]) weightMap[t.Name] = _fileNames[i];
        var total = _plan.SelectMany(s => s).Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b) * t.DType.Size);
        var json = JsonSerializer.SerializeToUtf8Bytes(new { metadata = new { total_size = total }, weight_map = weightMap },
            IndentedJson);
        var target = Path.Combine(_directory, ShardedSafetensors.IndexFileName);
        var temp = target + ".partial";
        File.WriteAllBytes(temp, json);
        File.Move(temp, target, overwrite: true);
    }

    private static List<List<(string, SafetensorsDType, IReadOnlyList<long>)>> Plan(
        IReadOnlyList<(string Name, SafetensorsDType DType, IReadOnlyList<long> Shape)> layout, long maxShardBytes)
    {
        var shards = new List<List<(string, SafetensorsDType, IReadOnlyList<long>)>> { new() };
        long size = 0;
        foreach (var t in layout)
        {
            long bytes = t.Shape.Aggregate(1L, (a, b) => a * b) * t.DType.Size;
            if (size > 0 && size + bytes > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add(t);
            size += bytes;
        }
        return shards;
    }
}
