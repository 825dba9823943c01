using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Checkpoints;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Heads;

/// <summary>What a zero-shot head is made of: class names, and templates with a "{}" for the name (docs/algorithm.md, "Zero-shot heads").</summary>
public sealed record ZeroShotHeadSpec(IReadOnlyList<string> Classes, IReadOnlyList<string> Templates)
{
    /// <summary>Where a head request gives the class names and the templates (docs/api.md, "Errors").</summary>
    public static readonly string ClassesAt = RequestProblem.At("classNames"), TemplatesAt = RequestProblem.At("templates");

    /// <summary>Every problem with the class names and templates themselves (docs/algorithm.md, "Zero-shot heads"); empty when none.</summary>
    public IReadOnlyList<RequestProblem> Problems(UploadLimits limits)
    {
        var problems = new List<RequestProblem>();
        if (Classes.Count == 0) problems.Add(new(ClassesAt, RequestProblemCode.Required, "the class list is empty"));
        if (Classes.Count > limits.MaxClasses) problems.Add(new(ClassesAt, RequestProblemCode.TooMany, $"{Classes.Count} classes are over the limit of {limits.MaxClasses}"));
        var blank = Classes.Select((c, i) => (c, i)).Where(x => string.IsNullOrWhiteSpace(x.c)).Select(x => x.i).ToList();
        if (blank.Count > 0) problems.Add(new(RequestProblem.At("classNames", blank[0]), RequestProblemCode.Invalid, $"class names at {string.Join(", ", blank)} are blank"));
        var repeated = Classes.GroupBy(c => c, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => $"'{g.Key}'").ToList();
        if (repeated.Count > 0) problems.Add(new(ClassesAt, RequestProblemCode.Duplicate, $"class names {string.Join(", ", repeated)} are given more than once"));
        if (Templates.Count == 0) problems.Add(new(TemplatesAt, RequestProblemCode.Required, "no templates"));
        foreach (var (t, i) in Templates.Select((t, i) => (t, i)).Where(x => !x.t.Contains(TemplateSets.Placeholder, StringComparison.Ordinal)))
            problems.Add(new(RequestProblem.At("templates", i), RequestProblemCode.Invalid, $"the template '{t}' has no {TemplateSets.Placeholder} for the class name"));
        return problems;
    }

    public IEnumerable<string> Texts(string className) => Templates.Select(t => t.Replace(TemplateSets.Placeholder, className, StringComparison.Ordinal));
}

/// <summary>A head that cannot be built from this checkpoint and spec, with every reason.</summary>
public sealed class ZeroShotHeadException(IReadOnlyList<RequestProblem> problems) : Exception(string.Join("; ", problems))
{
    public IReadOnlyList<RequestProblem> Problems { get; } = problems;

    /// <summary>What the checkpoint lacks for a head (pointed at the request's <c>checkpoint</c>).</summary>
    public static RequestProblem OfCheckpoint(string detail) => new(RequestProblem.At("checkpoint"), RequestProblemCode.Unsupported, detail);
}

/// <summary>A model that can build zero-shot heads from class names: one with a text tower beside its image encoder (its <see cref="Architectures.ModelSpec"/>).</summary>
public interface IZeroShotHeads
{
    /// <summary>Builds the head and writes it to <paramref name="path"/>; throws <see cref="ZeroShotHeadException"/> naming every problem.</summary>
    HeadInfo BuildZeroShotHead(ModelFolder folder, ZeroShotHeadSpec spec, string path, UploadLimits limits, Device device, CancellationToken ct);
}

/// <summary>Zero-shot heads from whatever checkpoint: its model builds them when it can, else every problem is named.</summary>
public static class ZeroShot
{
    public static HeadInfo Build(ModelFolder folder, ZeroShotHeadSpec spec, string path, UploadLimits limits, Device device, CancellationToken ct = default)
    {
        if (folder.Spec is IZeroShotHeads heads) return heads.BuildZeroShotHead(folder, spec, path, limits, device, ct);
        throw new ZeroShotHeadException([.. spec.Problems(limits), ZeroShotHeadException.OfCheckpoint(
            $"the checkpoint ({folder.Layout}) is not of an architecture with a text tower, so it cannot build zero-shot heads "
            + "(a full CLIP can: Hugging Face CLIPModel or open_clip, with its tokenizer files)")]);
    }
}
