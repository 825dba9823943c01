using AdaMerging.Domain.Methods.Options;

namespace AdaMerging.Domain.Methods;

/// <summary>The registry of merge methods: one line per method.</summary>
public static class MergeMethods
{
    public static IReadOnlyList<IMergeMethod> All { get; } =
    [
        new WeightAveragingMethod(),
        new TaskArithmeticMethod(),
        new TiesMethod(),
        new DareMethod(),
        new TsvMethod(),
        new IsoCMethod(),
        new IsoCtsMethod(),
        new WudiMethod(),
        new RegMeanMethod(),
        new AdaMergingMethod(),
        new AdaRankMethod(),
    ];

    public static IMergeMethod? Find(string? name) => All.FirstOrDefault(m => m.Name == name);

    public static IMergeMethod Get(string name) =>
        Find(name) ?? throw new ArgumentException($"method '{OptionSpec.Shown(name)}' is unknown; known: {string.Join(", ", All.Select(m => m.Name))}");

    /// <summary>A method's own options followed by the common ones.</summary>
    public static IReadOnlyList<OptionSpec> OptionsOf(IMergeMethod method) => [.. method.Options, .. CommonOptions.All];
}
