using AdaMerging.Domain.Datasets;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Text;

/// <summary>
/// A prompt dataset's examples as a causal language model's input (docs/algorithm.md, "Language-model tasks"): the
/// tokenizer's leading specials, the prompt, and the completion where there is one, its tokens marked as scored in the
/// batch's mask row (<see cref="TokenBatch.PackScored"/>). Cut to the maximum length: a prompt alone loses its end, as
/// a text does; with a completion the prompt loses its beginning (what conditions the completion is its end) and the
/// completion is kept whole unless it alone is longer, then cut at its end. A completion with nothing before it (no
/// leading special, an empty prompt) has its first token unscored: nothing predicts it.
/// </summary>
public sealed class PromptRows(IReadOnlyList<PromptExample> examples, ICausalTokenizer tokenizer, int maxTokens) : IExampleRows
{
    private readonly (int[] Ids, int ScoredFrom)?[] _ids = new (int[], int)?[examples.Count];

    public long Count => examples.Count;

    public Tensor Read(long[] rows, Device device) =>
        TokenBatch.PackScored([.. rows.Select(r => _ids[r] ??= Encode(examples[checked((int)r)]))], tokenizer.PaddingId, device);

    public void Dispose() { }

    /// <summary>The ids of one example, and where its completion begins (its length when it has none).</summary>
    public (int[] Ids, int ScoredFrom) Encode(PromptExample example)
    {
        var lead = tokenizer.Leading;
        var prompt = tokenizer.EncodePlain(example.Prompt);
        if (example.Completion is null)
        {
            int[] alone = [.. lead, .. prompt];
            return (alone[..Math.Min(alone.Length, maxTokens)], Math.Min(alone.Length, maxTokens));
        }
        var completion = tokenizer.EncodePlain(example.Completion);
        int room = Math.Max(0, maxTokens - lead.Count);
        if (completion.Length >= room) completion = completion[..Math.Max(0, room - (room > 1 ? 1 : 0))];
        prompt = prompt[Math.Max(0, prompt.Length - (room - completion.Length))..];
        int[] ids = [.. lead, .. prompt, .. completion];
        ids = ids[..Math.Min(ids.Length, maxTokens)];   // only a maximum shorter than the leading specials cuts here
        int scoredFrom = Math.Max(1, lead.Count + prompt.Length);
        return (ids, Math.Min(scoredFrom, ids.Length));
    }

    /// <summary>
    /// A decoder's dataset as its rows: a prompt file's (no labels: completions are in the rows), or a text file's and
    /// its labels (<see cref="TextRows"/>), by the dataset's modality.
    /// </summary>
    public static (IExampleRows Rows, Tensor? Labels) Open(string path, DatasetInfo info, ICausalTokenizer tokenizer, int maxTokens) =>
        info.Modality == DatasetModality.Prompts ? (new PromptRows(PromptDataset.Load(path), tokenizer, maxTokens), null) : TextRows.Open(path, tokenizer, maxTokens);
}
