using System.Text;

namespace AdaMerging.Domain.Text;

/// <summary>RFC 4180 records: comma-separated fields, double-quoted where they hold commas, quotes ("" inside) or line breaks.</summary>
public static class Csv
{
    /// <summary>Each record with the line it starts on and its fields, or the problem that ended it (an unclosed quote).</summary>
    public static IEnumerable<(int Line, List<string> Fields, string? Problem)> Records(string content)
    {
        int i = 0, line = 1;
        while (i < content.Length)
        {
            int start = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            string? problem = null;
            bool quoted = false, end = false;
            while (!end)
            {
                if (i >= content.Length)
                {
                    if (quoted) problem = "a quoted field is never closed";
                    fields.Add(field.ToString());
                    break;
                }
                char c = content[i++];
                if (quoted)
                {
                    if (c == '"' && i < content.Length && content[i] == '"') { field.Append('"'); i++; }
                    else if (c == '"') quoted = false;
                    else
                    {
                        if (c == '\n') line++;
                        field.Append(c);
                    }
                }
                else if (c == '"' && field.Length == 0) quoted = true;
                else if (c == ',') { fields.Add(field.ToString()); field.Clear(); }
                else if (c == '\n' || c == '\r')
                {
                    if (c == '\r' && i < content.Length && content[i] == '\n') i++;
                    line++;
                    fields.Add(field.ToString());
                    end = true;
                }
                else field.Append(c);
            }
            yield return (start, fields, problem);
        }
    }
}
