using AdaMerging.Domain.Datasets;
using AdaMerging.Domain.Models;

namespace AdaMerging.Domain.Methods;

/// <summary>One task as AdaMerging sees it: its frozen head (a classifier, or a language model's output) and its unlabeled adaptation data.</summary>
public sealed record AdaMergingTask(string Name, ITaskHead Head, IExampleRows Adaptation);

/// <summary>Everything a run needs to continue exactly where it stopped.</summary>
public sealed record AdaMergingState(int Step, double[] Lambda, double[] FirstMoment, double[] SecondMoment, SamplerState[] Samplers, List<double> Objective);

public sealed record StepProgress(int Step, int TotalSteps, double Objective, TimeSpan Elapsed);

/// <summary>
/// Where one step's time went: merge (θ from λ), forward, backward (∂L/∂θ), λ gradient (Tp ∂L/∂θp), Adam, and with
/// expert_kl the experts' predictions (each expert's weights and its forward without a graph).
/// </summary>
public sealed record StepTimings(TimeSpan Data, TimeSpan Merge, TimeSpan Forward, TimeSpan Backward, TimeSpan LambdaGradient, TimeSpan Optimizer,
    TimeSpan Experts = default)
{
    public TimeSpan Total => Data + Merge + Forward + Backward + LambdaGradient + Optimizer + Experts;
}
