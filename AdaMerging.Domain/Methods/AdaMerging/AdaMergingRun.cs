using System.Diagnostics;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using TorchSharp;
using AdaMerging.Domain.Merging;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// AdaMerging (Yang et al., ICLR 2024) as docs/algorithm.md, "AdaMerging", states it: λ ∈ R^(rows×K) initialised to 0.3, clamped to
/// [0, 1] in the forward pass (or another range, or projected onto it after each step: "Coefficients past the clamp"); each step draws a fresh batch per task, rebuilds the merged weights once, sums the
/// tasks' objectives (mean prediction entropy, or KL from each task's expert: <see cref="Objectives"/>) and their gradient (task by task, <see cref="ObjectiveBackward"/>), and takes one
/// Adam step with PyTorch's update rule.
/// </summary>
/// <remarks>
/// ∂L/∂λ is taken by the chain rule (docs/algorithm.md, "The gradient ∂L/∂λ by the chain rule"), not by autograd through the merge: the merged weights are one flat leaf
/// buffer, rewritten in place each step (θ = θ0 + Tᵀc, one pass over the task vectors); backward fills its gradient
/// like any training step's; then ∂L/∂λ(l,k) = Σp∈l ⟨∂L/∂θp, τk,p⟩ (one more pass), masked where the clamp is
/// saturated exactly as torch.clamp's backward does. Autograd through the merge would hold K products c·τk per tensor
/// and the merged weights in the graph: (2K + 1) model-sized temporaries per step instead of none.
/// The images run in the task vectors' dtype (bf16 when stored so); λ, Adam and the objective stay in float32.
/// </remarks>
public sealed class AdaMergingRun : IDisposable
{
    private readonly ObjectiveBackward _backward;
    private readonly IReadOnlyDictionary<string, Tensor> _fixed;
    private readonly ITaskVectorSet _vectors;
    private readonly IReadOnlyList<AdaMergingTask> _tasks;
    private readonly AdaMergingSettings _options;
    private readonly BatchSampler[] _samplers;
    private readonly Dictionary<string, Tensor> _fixedInComputeType, _leaves, _parameters;
    private readonly Tensor _lambda, _m, _v, _merged;
    private readonly List<double> _objective;
    private int _step;

    /// <param name="model">The model: features of images under given parameters (in the checkpoint's own names), in stages.</param>
    public AdaMergingRun(IFeatureStages model, IReadOnlyDictionary<string, Tensor> fixedParameters, ITaskVectorSet vectors,
        LayerMap layers, IReadOnlyList<AdaMergingTask> tasks, AdaMergingSettings options, AdaMergingState? resume = null)
    {
        if (tasks.Count != vectors.TaskCount) throw new ArgumentException($"{tasks.Count} tasks for {vectors.TaskCount} task vectors");
        _backward = new ObjectiveBackward(model, tasks, options.Graph, options.Checkpointing, options.BatchesPerStep, options.Objective);
        _fixed = fixedParameters;
        _vectors = vectors;
        _tasks = tasks;
        _options = options;
        Layers = layers;
        long[] shape = [layers.Rows, vectors.TaskCount];
        // λ and Adam's moments: float32 as the paper (float64 when the model is, for gradient checks), whatever the storage.
        var lambdaType = vectors.DType == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        Tensor Restore(double[] values) => tensor(values, shape, device: vectors.Device).to_type(lambdaType);
        _lambda = resume is null ? ScalarMath.Filled(shape, options.InitialLambda, lambdaType, vectors.Device) : Restore(resume.Lambda);
        _m = resume is null ? zeros_like(_lambda) : Restore(resume.FirstMoment);
        _v = resume is null ? zeros_like(_lambda) : Restore(resume.SecondMoment);
        _samplers = resume is null
            ? tasks.Select((t, k) => new BatchSampler(checked((int)t.Adaptation.Count), (ulong)options.Seed * 1000003ul + (ulong)k)).ToArray()
            : resume.Samplers.Select(BatchSampler.Restore).ToArray();
        _step = resume?.Step ?? 0;
        _objective = resume is null ? [] : [.. resume.Objective];
        _merged = empty(vectors.ParameterCount, dtype: vectors.DType, device: vectors.Device);
        // One leaf per tensor over the flat buffer: views of a single flat leaf would make autograd's narrow backward
        // materialise a zero gradient the size of the whole model for every tensor.
        _leaves = TaskVectorSets.Views(vectors, _merged).ToDictionary(kv => kv.Key, kv =>
        {
            using var view = kv.Value;
            var leaf = view.detach();
            leaf.requires_grad = true;
            return leaf;
        }, StringComparer.Ordinal);
        _fixedInComputeType = fixedParameters.Where(kv => kv.Value.dtype != vectors.DType)
            .ToDictionary(kv => kv.Key, kv => kv.Value.to_type(vectors.DType), StringComparer.Ordinal);
        // What the model reads every step, built once: the leaves are rewritten in place, the fixed tensors never change.
        _parameters = new Dictionary<string, Tensor>(_leaves, StringComparer.Ordinal);
        foreach (var (name, t) in fixedParameters) _parameters.TryAdd(name, _fixedInComputeType.GetValueOrDefault(name, t));
    }

    public LayerMap Layers { get; }

    public int Step => _step;

    public IReadOnlyList<double> ObjectivePerStep => _objective;

    /// <summary>The phases of the last step taken.</summary>
    public StepTimings? LastTimings { get; private set; }

    /// <summary>The effective coefficients, λ clamped to its range, as [rows, tasks].</summary>
    public double[,] Coefficients()
    {
        var values = Values(Effective(_lambda));
        var result = new double[Layers.Rows, _vectors.TaskCount];
        Buffer.BlockCopy(values, 0, result, 0, values.Length * sizeof(double));
        return result;
    }

    /// <summary>The raw λ (before the clamp), as [rows × tasks] values.</summary>
    public double[] RawLambda() => Values(_lambda);

    public AdaMergingState Snapshot() => new(_step, Values(_lambda), Values(_m), Values(_v),
        _samplers.Select(s => s.State).ToArray(), [.. _objective]);

    /// <summary>Runs the remaining steps, reporting each and checking for cancellation between them.</summary>
    public void Run(Action<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (_step < _options.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var objective = TakeStep();
            progress?.Invoke(new StepProgress(_step, _options.Steps, objective, clock.Elapsed));
        }
    }

    public double TakeStep()
    {
        using var scope = NewDisposeScope();
        var clock = Stopwatch.StartNew();
        // batchesPerStep draws one after another, read as one batch: Σb meanb H = BatchesPerStep · mean H over them all.
        var batches = _samplers.Select(s => Enumerable.Range(0, _options.BatchesPerStep).SelectMany(_ => s.Next(_options.BatchSize)).ToArray()).ToList();
        var data = clock.Elapsed;
        var (objective, gradient) = ObjectiveAndGradient(_lambda, batches);
        clock.Restart();
        using (no_grad()) Adam.Update(_lambda, _m, _v, gradient, _step + 1, _options);
        if (_options.LambdaBound == LambdaBound.Project) using (no_grad()) _lambda.ClampedInPlace(_options.LambdaRange.Low, _options.LambdaRange.High);
        LastTimings = _timings with { Data = data, Optimizer = clock.Elapsed };
        _step++;
        _objective.Add(objective);
        return objective;
    }

    private StepTimings _timings = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    /// <summary>L(λ) = Σk the objective of task k's predictions on the merged model, for the given batches, and ∂L/∂λ.</summary>
    public (double Objective, Tensor Gradient) ObjectiveAndGradient(Tensor lambda, IReadOnlyList<long[]> batches)
    {
        using var gradients = enable_grad(); // whatever the caller's mode: this is the one place gradients are wanted
        var clock = Stopwatch.StartNew();
        var experts = _options.Objective == AdaMergingObjective.ExpertKl ? ExpertPredictions(batches) : null;
        var expertTime = clock.Elapsed;
        clock.Restart();
        using (no_grad())
        using (var coefficients = Effective(lambda))
        using (var perTensor = TaskVectorSets.PerTensor(_vectors, coefficients, Layers))
            _vectors.MergeInto(_merged, perTensor);
        var merge = clock.Elapsed;
        var parts = new Tensor?[_vectors.Names.Count];
        var lambdaGradient = TimeSpan.Zero;
        void TakeGradients()
        {
            var taking = Stopwatch.StartNew();
            TakeTensorGradients(parts);
            // Stage by stage the released gradients are many buffers under glibc's mmap threshold, which stay in
            // fragmented heaps unless handed back (docs/algorithm.md, "Memory").
            if (_options.Checkpointing) Compute.HostMemory.Current.Trim();
            lambdaGradient += taking.Elapsed;
        }
        using var total = _backward.Run(_parameters, batches, _vectors.DType, lambda.dtype, lambda.device, TakeGradients, experts);
        foreach (var e in experts ?? []) e.Dispose();
        // With checkpointing the gradients are taken inside the backward pass's time: count them once, as λ's.
        var backward = _options.Checkpointing ? _backward.Backward - lambdaGradient : _backward.Backward;
        clock.Restart();
        Tensor gradient;
        using (no_grad())
        {
            using var raw = TaskVectorSets.CoefficientGradient(_vectors, parts, Layers, lambda.dtype);
            foreach (var part in parts) part?.Dispose();
            using var inside = lambda.Within(_options.LambdaRange.Low, _options.LambdaRange.High);   // torch.clamp's backward passes the gradient at the bounds too
            gradient = raw * inside;
        }
        _timings = new StepTimings(TimeSpan.Zero, merge, _backward.Forward, backward, lambdaGradient + clock.Elapsed, TimeSpan.Zero, expertTime);
        return (total.AsDouble(), gradient);
    }

    /// <summary>
    /// Each task's expert predictions on its batch, for expert_kl: the merge buffer is written with the expert's weights,
    /// θ0 + τk (coefficient 1 for task k, 0 for the others, through the same merge as λ's), and the task's batch is run
    /// without a graph. Recomputed every step rather than cached (docs/algorithm.md, "Objectives", says why): K
    /// forwards without a graph and K merges per step; what is held is the K batches' log-probabilities.
    /// </summary>
    private List<Tensor> ExpertPredictions(IReadOnlyList<long[]> batches)
    {
        using var _ = no_grad();
        var experts = new List<Tensor>(_tasks.Count);
        for (int k = 0; k < _tasks.Count; k++)
        {
            using (var oneHot = zeros(Layers.Rows, _vectors.TaskCount, dtype: _lambda.dtype, device: _lambda.device))
            {
                oneHot.select(1, k).fill_(RootedScalars.One);
                using var perTensor = TaskVectorSets.PerTensor(_vectors, oneHot, Layers);
                _vectors.MergeInto(_merged, perTensor);
            }
            experts.Add(_backward.Predictions(_parameters, k, batches[k], _vectors.DType, _lambda.device).DetachFromDisposeScope());
        }
        return experts;
    }

    /// <summary>
    /// Adds ⟨∂L/∂θp, τk,p⟩ of every tensor whose gradient is present to its part and releases that gradient, so the
    /// next backward starts a new one instead of adding to it (with checkpointing: one stage's parameters at a time).
    /// </summary>
    private void TakeTensorGradients(Tensor?[] parts)
    {
        using var _ = no_grad();
        for (int i = 0; i < parts.Length; i++)
        {
            var leaf = _leaves[_vectors.Names[i]];
            if (leaf.grad is not { } g) continue;
            var part = _vectors.TensorGradient(i, g).DetachFromDisposeScope();   // it outlives the stage's scope it is made in
            g.Dispose();
            leaf.grad = null;
            if (parts[i] is { } sum)
            {
                sum.PlusInPlace(part);
                part.Dispose();
            }
            else parts[i] = part;
        }
    }

    /// <summary>The final merged encoder parameters (without gradient).</summary>
    public Dictionary<string, Tensor> MergedParameters()
    {
        using var coefficients = Effective(_lambda);
        var merged = TaskVectorSets.Merge(_vectors, coefficients, Layers);
        foreach (var (name, t) in _fixed) merged.TryAdd(name, t);
        return merged;
    }

    /// <summary>λ clamped to its range: what the merge uses (under projection λ is already in it).</summary>
    private Tensor Effective(Tensor lambda) => lambda.Clamped(_options.LambdaRange.Low, _options.LambdaRange.High);

    public void Dispose()
    {
        _lambda.Dispose();
        _m.Dispose();
        _v.Dispose();
        _merged.Dispose();
        foreach (var t in _leaves.Values) t.Dispose();
        foreach (var t in _fixedInComputeType.Values) t.Dispose();
    }

    /// <summary>H = −Σc softmax(z)c · log_softmax(z)c, from log_softmax so it stays finite for any logits; mean over the batch.</summary>
    public static Tensor Entropy(Tensor logits) => Objectives.Entropy(logits.log_softmax(-1));

    private static double[] Values(Tensor t)
    {
        using var d = t.detach().cpu().to_type(ScalarType.Float64);
        return d.data<double>().ToArray();
    }
}
