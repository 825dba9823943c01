using System.Globalization;
using System.Text;

namespace AdaMerging.Domain.Text;

/// <summary>
/// Hugging Face's BasicTokenizer over code points, before WordPiece: NFC; drop NUL, U+FFFD and control characters;
/// whitespace (tab, line breaks, Zs) to spaces; spaces around CJK ideographs; per word, lower-case and strip accents
/// (NFD, marks removed) as configured, and split off each punctuation character. Done here rather than by
/// Microsoft.ML.Tokenizers' own, which reads UTF-16 code units: it drops characters outside the BMP (an emoji is a
/// surrogate pair, category Cs) where Hugging Face keeps them ([UNK]), and takes a tab for a control character where
/// Hugging Face takes it for whitespace, joining the words beside it (docs/algorithm.md, "Tokenizers").
/// </summary>
public static class BertBasicTokenization
{
    /// <summary>The words and punctuation of <paramref name="text"/>, separated by single spaces.</summary>
    public static string Apply(string text, bool lowerCase, bool stripAccents, bool splitCjk)
    {
        var cleaned = new StringBuilder(text.Length + 8);
        foreach (var rune in text.Normalize(NormalizationForm.FormC).EnumerateRunes())
        {
            if (rune.Value is 0 or 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) cleaned.Append(' ');
            else if (splitCjk && IsCjk(rune.Value)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else cleaned.Append(rune.ToString());
        }
        var pieces = new List<string>();
        var piece = new StringBuilder();
        foreach (var raw in cleaned.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var word = lowerCase ? raw.ToLowerInvariant() : raw;
            if (stripAccents) word = StripAccents(word);
            foreach (var rune in word.EnumerateRunes())
            {
                if (!IsPunctuation(rune))
                {
                    piece.Append(rune.ToString());
                    continue;
                }
                Flush(pieces, piece);
                pieces.Add(rune.ToString());
            }
            Flush(pieces, piece);
        }
        return string.Join(' ', pieces);
    }

    private static void Flush(List<string> pieces, StringBuilder piece)
    {
        if (piece.Length == 0) return;
        pieces.Add(piece.ToString());
        piece.Clear();
    }

    private static string StripAccents(string word)
    {
        var result = new StringBuilder(word.Length);
        foreach (var rune in word.Normalize(NormalizationForm.FormD).EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) result.Append(rune.ToString());
        return result.ToString();
    }

    private static bool IsWhitespace(Rune r) => r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    /// <summary>Categories C* (control, format, private use, unassigned), tab and line breaks excepted (they are whitespace).</summary>
    private static bool IsControl(Rune r) => r.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(r) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned or UnicodeCategory.Surrogate;

    /// <summary>ASCII's non-alphanumeric printable characters, and Unicode's P* categories.</summary>
    private static bool IsPunctuation(Rune r) =>
        r.Value is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>The CJK Unified Ideographs blocks BERT spaces out (not Hangul, Hiragana or Katakana).</summary>
    private static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
