using AdaMerging.Domain.Tensors;

namespace AdaMerging.Domain.Architectures;

/// <summary>
/// A model family the service can run (docs/algorithm.md, "Architectures"): it recognises its checkpoints from their
/// tensor names, shapes and files, and describes the recognised model (<see cref="ModelSpec"/>) to the rest of the
/// code, which never names a family. Registered in <see cref="ModelArchitectures"/> with one line; the merge methods
/// work on any registered architecture, and data-free merges on any checkpoint at all.
/// </summary>
public interface IArchitecture
{
    /// <summary>Its name on the wire (a checkpoint's <c>architecture</c>).</summary>
    string Name { get; }

    /// <summary>One line: what models it covers.</summary>
    string Summary { get; }

    /// <summary>The layouts (on the wire, a checkpoint's <c>layout</c>) it recognises; unique across the registry.</summary>
    IReadOnlyList<string> Layouts { get; }

    /// <summary>
    /// Files besides the weights and config.json that it reads when they come with a checkpoint (a tokenizer, its own
    /// config): stored with the checkpoint and carried into a merged model.
    /// </summary>
    IReadOnlySet<string> SideFiles { get; }

    /// <summary>
    /// The model the weights hold, or null when they are not of this family. Throws
    /// <see cref="Checkpoints.CheckpointFormatException"/> naming every problem when they are, but are inconsistent
    /// (with config.json, with themselves).
    /// </summary>
    /// <param name="files">config.json's text when it came, and the side files (name → path) that came.</param>
    ModelSpec? Recognise(ITensorSource weights, ModelFiles files);
}

/// <summary>What came beside a checkpoint's weights: config.json's text, and the other files an architecture may read (name → path).</summary>
public sealed record ModelFiles(string? ConfigJson, IReadOnlyDictionary<string, string> SideFiles);
