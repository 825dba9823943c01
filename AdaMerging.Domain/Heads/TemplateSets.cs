namespace AdaMerging.Domain.Heads;

/// <summary>
/// The prompt templates of the official AdaMerging code (inherited from the task-vectors code) for its eight tasks, and
/// CLIP's generic one; "{}" stands for the class name. docs/algorithm.md, "Zero-shot heads".
/// </summary>
public static class TemplateSets
{
    public const string Placeholder = "{}";

    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> All = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase)
    {
        ["generic"] = ["a photo of a {}."],
        ["SUN397"] = ["a photo of a {}.", "a photo of the {}."],
        ["Cars"] =
        [
            "a photo of a {}.", "a photo of the {}.", "a photo of my {}.", "i love my {}!", "a photo of my dirty {}.", "a photo of my clean {}.",
            "a photo of my new {}.", "a photo of my old {}.",
        ],
        ["RESISC45"] =
        [
            "satellite imagery of {}.", "aerial imagery of {}.", "satellite photo of {}.", "aerial photo of {}.", "satellite view of {}.",
            "aerial view of {}.", "satellite imagery of a {}.", "aerial imagery of a {}.", "satellite photo of a {}.", "aerial photo of a {}.",
            "satellite view of a {}.", "aerial view of a {}.", "satellite imagery of the {}.", "aerial imagery of the {}.",
            "satellite photo of the {}.", "aerial photo of the {}.", "satellite view of the {}.", "aerial view of the {}.",
        ],
        ["EuroSAT"] = ["a centered satellite photo of {}.", "a centered satellite photo of a {}.", "a centered satellite photo of the {}."],
        ["SVHN"] = ["a photo of the number: \"{}\"."],
        ["GTSRB"] =
        [
            "a zoomed in photo of a \"{}\" traffic sign.", "a centered photo of a \"{}\" traffic sign.", "a close up photo of a \"{}\" traffic sign.",
        ],
        ["MNIST"] = ["a photo of the number: \"{}\"."],
        ["DTD"] =
        [
            "a photo of a {} texture.", "a photo of a {} pattern.", "a photo of a {} thing.", "a photo of a {} object.",
            "a photo of the {} texture.", "a photo of the {} pattern.", "a photo of the {} thing.", "a photo of the {} object.",
        ],
    };

    /// <summary>The set's canonical name and templates; null when there is no such set.</summary>
    public static (string Name, IReadOnlyList<string> Templates)? Find(string name) =>
        All.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) is { } key ? (key, All[key]) : null;
}
