using TorchSharp;

namespace AdaMerging.Domain.Tensors;

/// <summary>
/// Another source's tensors under other names (one name each way), reading through to it; it does not own the source.
/// What a task checkpoint saved under another prefix than its base looks like to a merge (docs/algorithm.md, "Names
/// across checkpoints").
/// </summary>
public sealed class RenamedTensorSource : ITensorSource
{
    private readonly ITensorSource _inner;
    private readonly Dictionary<string, string> _original = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorInfo> _byName = new(StringComparer.Ordinal);

    /// <param name="rename">Each of the source's names to the one it is shown under; two onto one name is refused.</param>
    public RenamedTensorSource(ITensorSource inner, Func<string, string> rename)
    {
        _inner = inner;
        var tensors = new List<TensorInfo>(inner.Tensors.Count);
        foreach (var t in inner.Tensors)
        {
            var name = rename(t.Name);
            if (!_original.TryAdd(name, t.Name))
                throw new ArgumentException($"'{_original[name]}' and '{t.Name}' would both be named '{name}'");
            var shown = t with { Name = name };
            tensors.Add(shown);
            _byName[name] = shown;
        }
        Tensors = tensors;
    }

    /// <summary>A source whose names under <paramref name="from"/> are shown under <paramref name="to"/> instead, <paramref name="keep"/>'s kept as they are.</summary>
    public static RenamedTensorSource SwapPrefix(ITensorSource inner, string from, string to, Func<string, bool> keep) =>
        new(inner, name => !keep(name) && name.StartsWith(from, StringComparison.Ordinal) ? to + name[from.Length..] : name);

    public IReadOnlyList<TensorInfo> Tensors { get; }

    public TensorInfo? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>The source's own name for a tensor shown as <paramref name="name"/>.</summary>
    public string Original(string name) => _original.TryGetValue(name, out var o) ? o : throw new KeyNotFoundException($"no tensor '{name}'");

    public torch.Tensor Read(string name, torch.ScalarType? convertTo = null) => _inner.Read(Original(name), convertTo);

    public void ReadInto(string name, torch.Tensor destination) => _inner.ReadInto(Original(name), destination);

    public torch.Tensor ReadRowRange(string name, long firstRow, long rows, torch.ScalarType? convertTo = null) =>
        _inner.ReadRowRange(Original(name), firstRow, rows, convertTo);

    public void ReadRowRangeInto(string name, long firstRow, long rows, torch.Tensor destination) =>
        _inner.ReadRowRangeInto(Original(name), firstRow, rows, destination);

    /// <summary>The source is its owner's to dispose.</summary>
    public void Dispose() { }
}
