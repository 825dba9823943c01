using AdaMerging.Domain.Compute;
using AdaMerging.Domain.Merging;
using AdaMerging.Domain.Models;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// AdaRank's optimisation as the authors' code runs it (docs/algorithm.md, "AdaRank"): λ [K, tensors] at the prior and
/// mask logits m [K, Σ ranks] at ±0.1, one Adam over both; each step draws a batch per task, merges θ = origin +
/// Σk λk,t Uk diag(w(m) ⊙ s) Vkᵀ (τk,t for tensors that are not masked), sums the tasks' mean prediction entropies
/// and steps. The mask's forward value w is 1[σ(m/T) &gt; 0.5] with the gradient of σ(m/T) (straight-through) or σ(m/T).
/// </summary>
/// <remarks>
/// As AdaMerging's run, the gradient is taken by the chain rule, not by autograd through the merge: backward fills
/// ∂L/∂θt on ordinary leaves, then ∂L/∂λk,t = Σi wi si di and ∂L/∂mi = λk,t si di σ'(mi/T)/T with d = diag(Ukᵀ (∂L/∂θt) Vk)
/// (<see cref="RankComponents.AddGradients"/>): one product per task and matrix, and no merge in the graph.
/// </remarks>
public sealed class AdaRankRun : IDisposable
{
    private readonly RankComponents _components;
    private readonly AdaRankSettings _settings;
    private readonly ObjectiveBackward _backward;
    private readonly BatchSampler[] _samplers;
    private readonly Tensor _parameters, _m, _v, _lambda, _logits, _maskTensor;
    private readonly Dictionary<string, Tensor> _leaves, _inputs;
    private readonly List<double> _objective;
    private int _step;

    public AdaRankRun(IFeatureStages model, IReadOnlyDictionary<string, Tensor> fixedParameters, RankComponents components,
        IReadOnlyList<AdaMergingTask> tasks, AdaRankSettings settings, Device device, AdaMergingState? resume = null)
    {
        if (tasks.Count != components.TaskCount) throw new ArgumentException($"{tasks.Count} tasks for {components.TaskCount} task vectors");
        _components = components;
        _settings = settings;
        var o = settings.Optimiser;
        _backward = new ObjectiveBackward(model, tasks, GradientGraph.TaskByTask, o.Checkpointing, o.BatchesPerStep);
        int k = components.TaskCount, t = components.Names.Count;
        var dtype = components.DType;
        _parameters = (resume is null ? Initial(components, settings, device) : tensor(resume.Lambda, device: device)).to_type(dtype);
        _m = resume is null ? zeros_like(_parameters) : tensor(resume.FirstMoment, device: device).to_type(dtype);
        _v = resume is null ? zeros_like(_parameters) : tensor(resume.SecondMoment, device: device).to_type(dtype);
        _lambda = _parameters.narrow(0, 0, (long)k * t).view(k, t);
        _logits = _parameters.narrow(0, (long)k * t, (long)k * components.MaskLength).view(k, components.MaskLength);
        // Which tensor each mask position belongs to: λ[k, tensor] spread over its positions.
        var owner = new long[components.MaskLength];
        for (int i = 0; i < t; i++)
            if (components.IsMasked(i)) Array.Fill(owner, i, components.MaskOffset[i], components.Ranks[i]);
        _maskTensor = tensor(owner, device: device);
        _samplers = resume is null
            ? tasks.Select((task, i) => new BatchSampler(checked((int)task.Adaptation.Count), (ulong)o.Seed * 1000003ul + (ulong)i)).ToArray()
            : resume.Samplers.Select(BatchSampler.Restore).ToArray();
        _step = resume?.Step ?? 0;
        _objective = resume is null ? [] : [.. resume.Objective];
        _leaves = components.Names.Select((name, i) => (name, leaf: empty(components.Shapes[i], dtype: dtype, device: device)))
            .ToDictionary(x => x.name, x => { x.leaf.requires_grad = true; return x.leaf; }, StringComparer.Ordinal);
        _inputs = new Dictionary<string, Tensor>(_leaves, StringComparer.Ordinal);
        foreach (var (name, value) in fixedParameters) _inputs.TryAdd(name, value);
    }

    /// <summary>λ at the prior; each matrix's logits kept for its top ⌊rank · ratio⌋ components and dropped after (the authors' _mask_init).</summary>
    private static Tensor Initial(RankComponents c, AdaRankSettings settings, Device device)
    {
        int k = c.TaskCount, t = c.Names.Count;
        var values = new double[(long)k * t + (long)k * c.MaskLength];
        Array.Fill(values, settings.InitialLambda, 0, k * t);
        var (kept, dropped) = settings.InitialLogits;
        for (int task = 0; task < k; task++)
            for (int i = 0; i < t; i++)
            {
                if (!c.IsMasked(i)) continue;
                int preserved = settings.InitialRankRatio < 1.0 ? (int)(c.Ranks[i] * settings.InitialRankRatio) : c.Ranks[i];
                int start = k * t + task * c.MaskLength + c.MaskOffset[i];
                for (int r = 0; r < c.Ranks[i]; r++) values[start + r] = r < preserved ? kept : dropped;
            }
        return tensor(values, device: device);
    }

    public int Step => _step;

    public IReadOnlyList<double> ObjectivePerStep => _objective;

    /// <summary>Runs the remaining steps, reporting each and checking for cancellation between them.</summary>
    public void Run(Action<StepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (_step < _settings.Optimiser.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            double objective = TakeStep();
            progress?.Invoke(new StepProgress(_step, _settings.Optimiser.Steps, objective, clock.Elapsed));
        }
    }

    public double TakeStep()
    {
        using var scope = NewDisposeScope();
        var batches = _samplers.Select(s => Enumerable.Range(0, _settings.Optimiser.BatchesPerStep).SelectMany(_ => s.Next(_settings.Optimiser.BatchSize)).ToArray()).ToList();
        var (objective, gradient) = ObjectiveAndGradient(batches);
        using (no_grad()) Adam.Update(_parameters, _m, _v, gradient, _step + 1, _settings.Optimiser);
        _step++;
        _objective.Add(objective);
        return objective;
    }

    /// <summary>L = Σk the mean entropy of task k's predictions on its batch under the current λ and masks, and ∂L/∂(λ, m) flat as the parameters.</summary>
    public (double Objective, Tensor Gradient) ObjectiveAndGradient(IReadOnlyList<long[]> batches)
    {
        using var gradients = enable_grad();
        Tensor sigma, weights, lambdaGradient, weightGradient;
        using (no_grad())
        {
            (sigma, weights) = Mask();
            for (int t = 0; t < _components.Names.Count; t++) _components.MergeInto(t, _leaves[_components.Names[t]], _lambda, weights);
            lambdaGradient = zeros_like(_lambda);
            weightGradient = zeros_like(_logits);
        }
        void TakeGradients()
        {
            using var _ = no_grad();
            for (int t = 0; t < _components.Names.Count; t++)
            {
                var leaf = _leaves[_components.Names[t]];
                if (leaf.grad is not { } g) continue;
                _components.AddGradients(t, g, weights, lambdaGradient, weightGradient);
                g.Dispose();
                leaf.grad = null;
            }
        }
        using var total = _backward.Run(_inputs, batches, _components.DType, _components.DType, _parameters.device, TakeGradients);
        using (no_grad())
        {
            // ∂L/∂m = λ · (s ⊙ d) · σ(1 − σ) / T, λ spread over each matrix's positions.
            var logitGradient = weightGradient.mul(_lambda.index_select(1, _maskTensor)).mul(sigma.mul(sigma.From(1.0))).DividedBy(_settings.MaskTemperature);
            return (total.AsDouble(), cat([lambdaGradient.flatten(), logitGradient.flatten()]).MoveToOuterDisposeScope());
        }
    }

    /// <summary>σ(m/T) and the mask's forward values: 1[σ &gt; 0.5] (straight-through) or σ itself (sigmoid).</summary>
    private (Tensor Sigma, Tensor Weights) Mask()
    {
        var sigma = _logits.DividedBy(_settings.MaskTemperature).sigmoid();
        return (sigma, _settings.Estimator == MaskEstimator.StraightThrough ? sigma.gt(RootedScalars.Of(0.5)).to_type(sigma.dtype) : sigma);
    }

    /// <summary>λ per tensor and task, [tensors][K] (unclamped, as the authors').</summary>
    public IReadOnlyList<LayerCoefficients> Coefficients()
    {
        var values = Values(_lambda);
        int k = _components.TaskCount, t = _components.Names.Count;
        return [.. _components.Names.Select((name, i) => new LayerCoefficients(name, Enumerable.Range(0, k).Select(task => values[task * t + i]).ToList()))];
    }

    /// <summary>Each masked matrix's full rank and how many of its components every task keeps (σ(m/T) &gt; 0.5).</summary>
    public IReadOnlyList<KeptRank> KeptRanks()
    {
        using var scope = NewDisposeScope();
        var kept = Values(Mask().Sigma.gt(RootedScalars.Of(0.5)));
        int length = _components.MaskLength;
        return [.. Enumerable.Range(0, _components.Names.Count).Where(_components.IsMasked).Select(i => new KeptRank(_components.Names[i], _components.Ranks[i],
            Enumerable.Range(0, _components.TaskCount).Select(k => (int)kept.Skip(k * length + _components.MaskOffset[i]).Take(_components.Ranks[i]).Sum()).ToList()))];
    }

    /// <summary>The merged tensors under the final λ and masks (the forward's values: hard for straight-through).</summary>
    public Dictionary<string, Tensor> Merged()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var (_, weights) = Mask();
        return _components.Names.Select((name, t) =>
        {
            var merged = empty(_components.Shapes[t], dtype: _components.DType, device: _parameters.device);
            _components.MergeInto(t, merged, _lambda, weights);
            return (name, merged: merged.MoveToOuterDisposeScope());
        }).ToDictionary(x => x.name, x => x.merged, StringComparer.Ordinal);
    }

    public AdaMergingState Snapshot() => new(_step, Values(_parameters), Values(_m), Values(_v), _samplers.Select(s => s.State).ToArray(), [.. _objective]);

    private static double[] Values(Tensor t)
    {
        if (t.numel() == 0) return [];   // no matrix masked (a ResNet's are all convolutions): TorchSharp's accessor throws on an empty tensor
        using var d = t.detach().cpu().to_type(ScalarType.Float64);
        return d.data<double>().ToArray();
    }

    public void Dispose()
    {
        foreach (var t in new[] { _parameters, _m, _v, _lambda, _logits, _maskTensor }) t.Dispose();
        foreach (var t in _leaves.Values) t.Dispose();
    }
}
