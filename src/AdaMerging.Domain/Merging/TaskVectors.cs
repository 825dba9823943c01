using System.Text.RegularExpressions;
using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Merging;

/// <summary>
/// The pre-trained parameters θ0 and each task's vector τk = θk − θ0, in memory, for the tensors that are merged:
/// floating tensors not matched by an exclusion pattern. Everything else is taken from the base.
/// </summary>
public sealed class TaskVectors : IDisposable
{
    private readonly bool _ownsBase;

    private TaskVectors(IReadOnlyList<string> names, Dictionary<string, Tensor> theta0, List<Dictionary<string, Tensor>> tau, bool ownsBase = true)
    {
        Names = names;
        Theta0 = theta0;
        Tau = tau;
        _ownsBase = ownsBase;
    }

    /// <summary>The merged tensors, in the base's order.</summary>
    public IReadOnlyList<string> Names { get; }

    public Dictionary<string, Tensor> Theta0 { get; }

    /// <summary>τk for each task k, over <see cref="Names"/>.</summary>
    public List<Dictionary<string, Tensor>> Tau { get; }

    public int TaskCount => Tau.Count;

    public static TaskVectors Load(ITensorSource theta0, IReadOnlyList<ITensorSource> tasks, IReadOnlyList<string> excludePatterns,
        ScalarType dtype, Device device)
    {
        var excluded = excludePatterns.Select(p => new Regex(p, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))).ToList();
        var names = theta0.Tensors.Where(t => t.DType.IsFloatingPoint && !excluded.Any(r => r.IsMatch(t.Name))).Select(t => t.Name).ToList();
        var base0 = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var tau = tasks.Select(_ => new Dictionary<string, Tensor>(StringComparer.Ordinal)).ToList();
        using (no_grad())
        {
            foreach (var name in names)
            {
                using (var read = theta0.Read(name, dtype)) base0[name] = read.to(device);
                for (int k = 0; k < tasks.Count; k++)
                {
                    using var thetaK = tasks[k].Read(name, dtype).to(device);
                    tau[k][name] = thetaK - base0[name];
                }
            }
        }
        return new TaskVectors(names, base0, tau);
    }

    /// <summary>θ0 + Σk c(p, k) · τk,p for every merged tensor p.</summary>
    public Dictionary<string, Tensor> Combine(Func<string, int, Tensor> coefficient) =>
        Names.ToDictionary(p => p, p =>
        {
            var merged = Theta0[p];
            for (int k = 0; k < TaskCount; k++) merged = merged + coefficient(p, k) * Tau[k][p];
            return merged;
        }, StringComparer.Ordinal);

    /// <summary>The same base with processed task vectors (TIES, DARE); disposing it frees only those vectors.</summary>
    public TaskVectors WithProcessed(List<Dictionary<string, Tensor>> tau) => new(Names, Theta0, tau, ownsBase: false);

    public void Dispose()
    {
        foreach (var t in Tau.SelectMany(d => d.Values)) t.Dispose();
        if (_ownsBase) foreach (var t in Theta0.Values) t.Dispose();
    }
}
