using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// What a method's computation works with: its resolved options, the compute device, θ0 and the task vectors (float32,
/// loaded on first use), and for methods that use data the model, the tasks' heads and images and the run's saved state.
/// </summary>
/// <param name="loadFactored">Where some task is a LoRA adapter: θ0 and the vectors with the adapters' factored (<see cref="FactoredTaskVectors"/>).</param>
public sealed class MergeContext(MethodOptions options, Device device, Func<ScalarType, TaskVectors> load, PhaseClock clock,
    IModel? model = null, TaskInputs? tasks = null, IRunSnapshots? snapshots = null, ModelSpec? spec = null,
    Func<ScalarType, FactoredTaskVectors>? loadFactored = null) : IDisposable
{
    private TaskVectors? _vectors;
    private FactoredTaskVectors? _factored;

    public MethodOptions Options { get; } = options;

    public Device Device { get; } = device;

    public PhaseClock Clock { get; } = clock;

    public IRunSnapshots? Snapshots { get; } = snapshots;

    public IModel Model => model ?? throw new InvalidOperationException("this merge has no model: its method needs no data");

    /// <summary>The block of each tensor (layer-wise coefficients per block), as the base's architecture says.</summary>
    public Func<string, int?> BlockOf => spec is { } s ? s.BlockOf : LayerMap.NoBlocks;

    /// <summary>Which tensors share another's layer-wise coefficient (a batch norm's running statistics), as the base's architecture says.</summary>
    public Func<string, string?> SharesWith => spec is { } s ? s.SharesCoefficientWith : LayerMap.OwnRow;

    /// <summary>Whether a linear layer's weight is stored [in, out] (GPT-2's Conv1D), not [out, in].</summary>
    public Func<string, bool> InputByOutput => spec is { } s ? s.LinearWeightIsInputByOutput : _ => false;

    /// <summary>The shape the spectral merges decompose each tensor as (<see cref="ModelSpec.SpectralShape"/>).</summary>
    public Func<string, IReadOnlyList<long>, IReadOnlyList<long>> SpectralShape => spec is { } s ? s.SpectralShape : SpectralMerge.OwnShape;

    public TaskInputs Tasks => tasks ?? throw new InvalidOperationException("this merge has no task inputs");

    /// <summary>θ0 and the task vectors in float32, loaded (phase load) on first use and owned by the context.</summary>
    public TaskVectors Vectors => _vectors ??= LoadVectors(ScalarType.Float32);

    /// <summary>Another load in <paramref name="dtype"/> (phase load), owned by the caller.</summary>
    public TaskVectors LoadVectors(ScalarType dtype) => Clock.Timed(MergePhase.Load, () => load(dtype));

    /// <summary>Whether the vectors can be kept factored (some task is a LoRA adapter; docs/algorithm.md, "AdaMerging over LoRA adapters").</summary>
    public bool Factorable => loadFactored is not null;

    /// <summary>θ0 and the vectors with the adapters' factored, in float32, loaded (phase load) on first use and owned by the context.</summary>
    public FactoredTaskVectors Factored => _factored ??= LoadFactored(ScalarType.Float32);

    /// <summary>Another factored load in <paramref name="dtype"/> (phase load), owned by the caller.</summary>
    public FactoredTaskVectors LoadFactored(ScalarType dtype) =>
        Clock.Timed(MergePhase.Load, () => (loadFactored ?? throw new InvalidOperationException("no task is a LoRA adapter"))(dtype));

    /// <summary>What the evaluation builds its models from: the vectors already loaded, else the factored ones where they can be, else the dense.</summary>
    public ITaskVectorSet EvaluationVectors => (ITaskVectorSet?)_vectors ?? (Factorable ? Factored : Vectors);

    /// <summary>A 0-d coefficient in float64 on the device: converted to the vectors' dtype when merged (float32's nearest, as before; exact in a float64 streamed merge).</summary>
    public Tensor Scalar(double value) => tensor(value, dtype: ScalarType.Float64, device: Device);

    public void Dispose()
    {
        _vectors?.Dispose();
        _factored?.Dispose();
    }
}
