using System.Globalization;
using System.Text;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// Prints walkthrough examples for a terminal: a heading per example, numbered steps with their explanation wrapped
/// to <see cref="LineWidth"/>, and each matrix as an aligned table with its name above and labels on rows and
/// columns. Matrices with the same row labels sit side by side when they fit in the line width.
/// </summary>
internal static class TextRenderer
{
    public const int LineWidth = 100;
    private const string Indent = "  ";
    private const string Gap = "    ";

    public static void Write(IReadOnlyList<WalkthroughExample> examples, TextWriter output)
    {
        for (int e = 0; e < examples.Count; e++)
        {
            if (e > 0)
            {
                output.WriteLine();
            }

            Write(examples[e], output);
        }
    }

    public static void Write(WalkthroughExample example, TextWriter output)
    {
        string heading = $"Example {example.Number}: {example.Title}";
        output.WriteLine(heading);
        output.WriteLine(new string('=', heading.Length));
        output.WriteLine($"Sentence: \"{example.Sentence}\"");
        for (int s = 0; s < example.Steps.Count; s++)
        {
            var step = example.Steps[s];
            output.WriteLine();
            output.WriteLine($"Step {s + 1}. {step.Title}");
            foreach (string line in Wrap(step.Explanation, LineWidth - Indent.Length))
            {
                output.WriteLine(Indent + line);
            }

            foreach (var group in GroupSideBySide(step.Matrices))
            {
                output.WriteLine();
                WriteGroup(group, output);
            }
        }
    }

    /// <summary>Formats one cell as the matrix's format asks, invariant culture.</summary>
    public static string FormatCell(float value, CellFormat format) => format switch
    {
        _ when float.IsNaN(value) => "NaN",
        CellFormat.Percent => (value * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%",
        CellFormat.Integer => value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.0000", CultureInfo.InvariantCulture),
    };

    /// <summary>The lines of one matrix, name first; every line the same width.</summary>
    public static List<string> Lines(LabelledMatrix matrix)
    {
        int labelWidth = matrix.RowLabels.Append("").Max(l => l.Length);
        var cells = new string[matrix.Rows, matrix.Columns];
        var widths = new int[matrix.Columns];
        for (int j = 0; j < matrix.Columns; j++)
        {
            widths[j] = matrix.ColumnLabels[j].Length;
            for (int i = 0; i < matrix.Rows; i++)
            {
                cells[i, j] = FormatCell(matrix[i, j], matrix.Format);
                widths[j] = Math.Max(widths[j], cells[i, j].Length);
            }
        }

        var lines = new List<string>();
        var builder = new StringBuilder();
        builder.Append(new string(' ', labelWidth));
        for (int j = 0; j < matrix.Columns; j++)
        {
            builder.Append("  ").Append(matrix.ColumnLabels[j].PadLeft(widths[j]));
        }

        string header = builder.ToString();
        lines.Add(matrix.Name.PadRight(header.Length));
        lines.Add(header);
        for (int i = 0; i < matrix.Rows; i++)
        {
            builder.Clear().Append(matrix.RowLabels[i].PadRight(labelWidth));
            for (int j = 0; j < matrix.Columns; j++)
            {
                builder.Append("  ").Append(cells[i, j].PadLeft(widths[j]));
            }

            lines.Add(builder.ToString());
        }

        return lines;
    }

    // Consecutive matrices share a line when they have the same row labels and fit the width together.
    private static List<List<List<string>>> GroupSideBySide(IReadOnlyList<LabelledMatrix> matrices)
    {
        var groups = new List<List<List<string>>>();
        LabelledMatrix? previous = null;
        int width = 0;
        foreach (var matrix in matrices)
        {
            var lines = Lines(matrix);
            int matrixWidth = lines.Max(l => l.Length);
            bool joins = previous is not null && previous.RowLabels.SequenceEqual(matrix.RowLabels)
                         && Indent.Length + width + Gap.Length + matrixWidth <= LineWidth;
            if (joins)
            {
                groups[^1].Add(lines);
                width += Gap.Length + matrixWidth;
            }
            else
            {
                groups.Add([lines]);
                width = matrixWidth;
            }

            previous = matrix;
        }

        return groups;
    }

    private static void WriteGroup(List<List<string>> group, TextWriter output)
    {
        int height = group.Max(m => m.Count);
        for (int line = 0; line < height; line++)
        {
            var builder = new StringBuilder(Indent);
            for (int m = 0; m < group.Count; m++)
            {
                int width = group[m].Max(l => l.Length);
                builder.Append(m > 0 ? Gap : "").Append((line < group[m].Count ? group[m][line] : "").PadRight(width));
            }

            output.WriteLine(builder.ToString().TrimEnd());
        }
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new StringBuilder();
        foreach (string word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                yield return line.ToString();
                line.Clear();
            }

            line.Append(line.Length > 0 ? " " : "").Append(word);
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }
}
