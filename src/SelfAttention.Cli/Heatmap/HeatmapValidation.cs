using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SelfAttention.Cli.Heatmap;

/// <summary>The checks <see cref="SvgHeatmap.Render"/> runs before drawing anything, one cold throw method per failure.</summary>
internal static class HeatmapValidation
{
    /// <summary>Throws unless there is at least one panel, every panel is complete and its values match its labels, and the options are in range.</summary>
    public static void Validate(IReadOnlyList<HeatmapPanel> panels, HeatmapOptions options)
    {
        ArgumentNullException.ThrowIfNull(panels);
        ArgumentNullException.ThrowIfNull(options);
        if (panels.Count == 0)
        {
            ThrowNoPanels();
        }

        for (int p = 0; p < panels.Count; p++)
        {
            HeatmapPanel? panel = panels[p];
            if (panel is null)
            {
                ThrowNull($"panels[{p}]");
            }

            if (panel.Title is null)
            {
                ThrowNull($"panels[{p}].Title");
            }

            if (panel.RowLabels is null || panel.RowLabels.Contains(null!))
            {
                ThrowNull($"panels[{p}].RowLabels");
            }

            if (panel.ColumnLabels is null || panel.ColumnLabels.Contains(null!))
            {
                ThrowNull($"panels[{p}].ColumnLabels");
            }

            if (panel.Values is null)
            {
                ThrowNull($"panels[{p}].Values");
            }

            if (panel.Rows == 0 || panel.Columns == 0)
            {
                ThrowEmptyPanel(p, panel.Rows, panel.Columns);
            }

            long expected = (long)panel.Rows * panel.Columns;
            if (panel.Values.Length != expected)
            {
                ThrowValuesLength(p, panel.Rows, panel.Columns, panel.Values.Length);
            }

            if (panel.Masked is { } masked && masked.Length != expected)
            {
                ThrowMaskedLength(p, panel.Rows, panel.Columns, masked.Length);
            }
        }

        if (options.MaxColumnsPerRow < 1)
        {
            ThrowOption("options.MaxColumnsPerRow", "at least 1", options.MaxColumnsPerRow);
        }

        if (options.MaxWidth < SvgHeatmap.MinWidth)
        {
            ThrowOption("options.MaxWidth", $"at least {SvgHeatmap.MinWidth} px", options.MaxWidth);
        }

        if (options.MaxPanelSize < SvgHeatmap.MinPanelSize)
        {
            ThrowOption("options.MaxPanelSize", $"at least {SvgHeatmap.MinPanelSize} px", options.MaxPanelSize);
        }

        if (options.ValueLabel is null)
        {
            ThrowNull("options.ValueLabel");
        }
    }

    [DoesNotReturn]
    private static void ThrowNoPanels() =>
        throw new ArgumentException("panels.Count: expected at least 1 panel, actual 0.", "panels");

    [DoesNotReturn]
    private static void ThrowNull(string what) =>
        throw new ArgumentException($"{what}: expected a value, actual null.", what.StartsWith("options", StringComparison.Ordinal) ? "options" : "panels");

    [DoesNotReturn]
    private static void ThrowEmptyPanel(int p, int rows, int columns) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"panels[{p}]: expected at least 1 row label and 1 column label, actual {rows} × {columns}."), "panels");

    [DoesNotReturn]
    private static void ThrowValuesLength(int p, int rows, int columns, int actual) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture,
                $"panels[{p}].Values.Length: expected {(long)rows * columns} ({rows} row labels × {columns} column labels), actual {actual}."),
            "panels");

    [DoesNotReturn]
    private static void ThrowMaskedLength(int p, int rows, int columns, int actual) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture,
                $"panels[{p}].Masked.Length: expected {(long)rows * columns} ({rows} row labels × {columns} column labels), actual {actual}."),
            "panels");

    [DoesNotReturn]
    private static void ThrowOption(string what, string expected, int actual) =>
        throw new ArgumentOutOfRangeException("options", actual,
            string.Create(CultureInfo.InvariantCulture, $"{what}: expected {expected}, actual {actual}."));
}
