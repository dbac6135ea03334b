namespace SelfAttention.Tests.Docs;

/// <summary>
/// One fenced <c>```csharp</c> block of a Markdown file: the code between the fences and the 1-based line of the file
/// its first code line sits on, so a compiler diagnostic at snippet line <c>L</c> (0-based) is file line
/// <c>FirstCodeLine + L</c>.
/// </summary>
internal sealed record MarkdownSnippet(int FenceLine, int FirstCodeLine, string Code)
{
    /// <summary>
    /// Every <c>```csharp</c> (or <c>```cs</c>, <c>```c#</c>) block of <paramref name="markdown"/>, in order. A block
    /// closes at the next line that is only a fence of at least as many backticks (CommonMark); an unclosed block is an
    /// error rather than a silently skipped snippet.
    /// </summary>
    public static IReadOnlyList<MarkdownSnippet> ExtractCSharp(string markdown)
    {
        string[] lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var snippets = new List<MarkdownSnippet>();
        for (int index = 0; index < lines.Length; index++)
        {
            string opening = lines[index].TrimStart();
            int ticks = opening.Length - opening.TrimStart('`').Length;
            if (ticks < 3)
            {
                continue;
            }

            string info = opening[ticks..].Trim();
            int end = index + 1;
            while (end < lines.Length && !IsClosingFence(lines[end], ticks))
            {
                end++;
            }

            if (end == lines.Length)
            {
                throw new FormatException($"line {index + 1}: the fenced block opened here is never closed.");
            }

            string language = info.Split(' ', 2)[0];
            if (language is "csharp" or "cs" or "c#")
            {
                snippets.Add(new MarkdownSnippet(index + 1, index + 2, string.Join('\n', lines[(index + 1)..end])));
            }

            index = end;
        }

        return snippets;
    }

    private static bool IsClosingFence(string line, int openingTicks)
    {
        string trimmed = line.Trim();
        return trimmed.Length >= openingTicks && trimmed.All(c => c == '`');
    }
}
