using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Tests.Support.Mlp;

/// <summary>A recognised test MLP: its widths (input first), read off the shapes.</summary>
public sealed class MlpSpec(MlpArchitecture architecture, IReadOnlyList<int> widths) : ModelSpec(architecture, MlpArchitecture.LayoutName, configInferred: true)
{
    public IReadOnlyList<int> Widths { get; } = widths;

    public override object Config => new { Widths };

    public override string Describe() => $"test MLP {string.Join(" → ", Widths)}";

    public override DatasetModality Input => DatasetModality.Features;

    public override int FeatureSize => Widths[^1];

    public override bool ReadsTensor(string name) => name.StartsWith("mlp.", StringComparison.Ordinal);

    public override IModelView View(ITensorSource weights) => new SameNames(weights);

    public override IModel CreateModel(ITensorSource weights) => new MlpModel(Widths.Count - 1, null);

    public override int? BlockOf(string tensor) => MlpArchitecture.LayerOf(tensor);

    public override IReadOnlyList<string> ObservedLinearLayers(IReadOnlyCollection<string> mergedTensors) =>
        mergedTensors.Where(n => n.StartsWith("mlp.layers.", StringComparison.Ordinal) && n.EndsWith(".weight", StringComparison.Ordinal))
            .Select(n => n[..^".weight".Length]).ToList();

    public override IReadOnlyList<string> DataProblems(DatasetInfo data, string label) =>
        data.FeatureSize == Widths[0] ? [] : [$"{label} holds {data.FeatureSize}-wide features where the model takes {Widths[0]}"];

    public override (IExampleRows Rows, Tensor? Labels) OpenRows(string path, DatasetInfo info, string scratchPath, int? maxSequenceLength = null)
    {
        using var file = SafetensorsFile.Open(path);
        return (new FeatureRows(path), file.Find(TensorDataset.Labels) is null ? null : file.Read(TensorDataset.Labels));
    }

    public override ModelMemory Memory
    {
        get
        {
            long widest = Widths.Max();
            var layers = Widths.Zip(Widths.Skip(1)).ToList();
            return new ModelMemory(InputBytes: Widths[0] * 4L, Blocks: layers.Count, BlockActivations: 2 * widest, StageInputs: Widths.Sum(w => (long)w),
                ForwardWithoutGraph: 2 * widest, BlockParameters: layers.Max(l => (long)l.First * l.Second + l.Second),
                ObservedGramBytes: layers.Sum(l => 3L * l.First * l.First + 2L * l.First * l.Second) * 4);
        }
    }

    public override string MergedConfigJson(ModelFolder baseFolder) => MlpArchitecture.ConfigJson(Widths);
}

/// <summary>The MLP as a function of its parameters: stage l is GELU(W_l x + b_l).</summary>
public sealed class MlpModel(int layers, Action<string, Tensor>? observer) : IModel
{
    public int StageCount => layers;

    public IReadOnlyDictionary<string, Tensor> Bind(IReadOnlyDictionary<string, Tensor> nativeParameters) => nativeParameters;

    public Tensor Stage(int stage, IReadOnlyDictionary<string, Tensor> θ, Tensor x)
    {
        var module = $"mlp.layers.{stage}";
        observer?.Invoke(module, x);
        return nn.functional.gelu(nn.functional.linear(x, θ[module + ".weight"], θ[module + ".bias"]));
    }

    public IModel Observed(Action<string, Tensor> linearInputs) => new MlpModel(layers, linearInputs);

    public void Dispose() { }
}

/// <summary>The `features` rows of a safetensors dataset, read from the file a batch at a time.</summary>
public sealed class FeatureRows(string path) : IExampleRows
{
    private readonly SafetensorsFile _file = SafetensorsFile.Open(path);

    public long Count { get; } = SafetensorsHeader.Read(path).Find(TensorDataset.Features)!.Shape[0];

    public Tensor Read(long[] rows, Device device)
    {
        using var raw = _file.ReadRows(TensorDataset.Features, rows);
        return raw.to_type(ScalarType.Float32).to(device);
    }

    public void Dispose() => _file.Dispose();
}
