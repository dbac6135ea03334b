using System.Globalization;
using System.Text;

namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// Renders attention weights as one self-contained SVG 1.1 document: a grid of panels (one per head; rows are queries,
/// columns are keys) coloured with viridis, and a shared colour bar. No scripts, stylesheets, fonts or external images;
/// numbers are written in the invariant culture, and the same input always gives the same text.
/// </summary>
/// <remarks>
/// Small panels draw one <c>&lt;rect&gt;</c> per cell with thin white borders, a <c>&lt;title&gt;</c> tooltip per cell
/// (up to <see cref="PanelLayout.MaxTooltipCells"/> cells) and, up to 16 × 16, the value inside the cell in black or white,
/// whichever contrasts more. Panels above <see cref="PanelLayout.MaxVectorCells"/> cells become one embedded palette PNG
/// (one byte per cell before compression), scaled without smoothing, so a 512 × 512 map stays a few hundred kB at most.
/// Cells shrink so a panel's matrix fits <see cref="HeatmapOptions.MaxPanelSize"/> and the panel fits the page
/// (<see cref="HeatmapOptions.MaxWidth"/>, less the colour bar), and labels thin out to every k-th when cells are smaller
/// than a line of text. Panels wrap into as many grid rows as the page width needs. Masked cells
/// (<see cref="HeatmapPanel.Masked"/>) are hatched grey, with "masked" in their tooltip and no value printed.
/// </remarks>
internal static class SvgHeatmap
{
    /// <summary>With <see cref="HeatmapOptions.ShowValues"/> null, values are printed in panels up to this many rows and columns.</summary>
    public const int AutoValuesMaxSide = 16;

    /// <summary>The smallest accepted <see cref="HeatmapOptions.MaxWidth"/>, px.</summary>
    public const int MinWidth = 320;

    /// <summary>The smallest accepted <see cref="HeatmapOptions.MaxPanelSize"/>, px.</summary>
    public const int MinPanelSize = 64;

    private const double Margin = 16;
    private const double MinGridShrink = 0.7;
    private const double PanelGap = 28;
    private const double LegendGap = 28;
    private const double TitleFontSize = 16;
    private const double CaptionFontSize = 12;
    private const string FontFamily = "DejaVu Sans, Helvetica, Arial, sans-serif";

    /// <summary>Renders <paramref name="panels"/> (at least one) as an SVG document.</summary>
    /// <exception cref="ArgumentException">No panels, a panel whose <c>Values.Length</c> is not rows × columns, a missing member.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option out of range.</exception>
    public static string Render(IReadOnlyList<HeatmapPanel> panels, HeatmapOptions? options = null)
    {
        options ??= HeatmapOptions.Default;
        HeatmapValidation.Validate(panels, options);

        ColorScale scale = ColorScale.For(panels);
        bool hasMasked = panels.Any(p => p.Masked is { } masked && Array.IndexOf(masked, true) >= 0);

        // The grid gets the page width less the margins and the legend (whose width does not depend on its height).
        double legendWidth = new ColorBar(scale, options.ValueLabel, 140, hasMasked).Width;
        double available = options.MaxWidth - (2 * Margin) - LegendGap - legendWidth;
        // Grid: panel p sits in row p / perRow, column p % perRow; each grid column is as wide as its widest panel
        // and each grid row as tall as its tallest, so one small panel next to a big one leaves no gap.
        (PanelLayout[] layouts, int perRow) = ChooseGrid(panels, options, available);
        int gridRows = (panels.Count + perRow - 1) / perRow;
        var columnLeft = new double[perRow + 1];
        var rowTop = new double[gridRows + 1];
        for (int p = 0; p < layouts.Length; p++)
        {
            columnLeft[(p % perRow) + 1] = Math.Max(columnLeft[(p % perRow) + 1], layouts[p].Width + PanelGap);
            rowTop[(p / perRow) + 1] = Math.Max(rowTop[(p / perRow) + 1], layouts[p].Height + PanelGap);
        }

        for (int c = 1; c <= perRow; c++)
        {
            columnLeft[c] += columnLeft[c - 1];
        }

        for (int r = 1; r <= gridRows; r++)
        {
            rowTop[r] += rowTop[r - 1];
        }

        // Header: title and caption, left-aligned.
        double top = Margin;
        double headerWidth = 0;
        double titleBaseline = 0, captionBaseline = 0;
        if (options.Title is not null)
        {
            titleBaseline = top + TitleFontSize;
            top += TitleFontSize + 10;
            headerWidth = SvgText.EstimateWidth(options.Title, TitleFontSize) * 1.1;
        }

        if (options.Caption is not null)
        {
            captionBaseline = top + CaptionFontSize;
            top += CaptionFontSize + 10;
            headerWidth = Math.Max(headerWidth, SvgText.EstimateWidth(options.Caption, CaptionFontSize));
        }

        double gridRight = Margin + columnLeft[perRow] - PanelGap;
        double gridBottom = top + rowTop[gridRows] - PanelGap;

        // Legend right of the grid, its bar level with the first matrix.
        var legend = new ColorBar(scale, options.ValueLabel, Math.Clamp(layouts[0].MatrixHeight, 140, 360), hasMasked);
        double legendX = gridRight + LegendGap;
        double barTop = top + Math.Max(layouts[0].MatrixTop, ColorBar.HeadingHeight);

        double width = Math.Ceiling(Math.Max(legendX + legend.Width, Margin + headerWidth) + Margin);
        double height = Math.Ceiling(Math.Max(gridBottom, barTop + legend.Height) + Margin);

        IFormatProvider inv = CultureInfo.InvariantCulture;
        var svg = new StringBuilder(4096);
        svg.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"{FontFamily}\">\n");
        svg.Append(inv, $"<title>{SvgText.Escape(options.Title ?? "attention heatmap")}</title>\n");
        svg.Append("<defs>\n");
        ColorBar.WriteDefinitions(svg, scale.HasNaN, hasMasked);
        svg.Append("</defs>\n");
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
        if (options.Title is not null)
        {
            svg.Append(inv, $"<text x=\"{Margin}\" y=\"{titleBaseline}\" font-size=\"{TitleFontSize}\" font-weight=\"bold\" fill=\"#111111\">{SvgText.Escape(options.Title)}</text>\n");
        }

        if (options.Caption is not null)
        {
            svg.Append(inv, $"<text x=\"{Margin}\" y=\"{captionBaseline}\" font-size=\"{CaptionFontSize}\" fill=\"#555555\">{SvgText.Escape(options.Caption)}</text>\n");
        }

        for (int p = 0; p < layouts.Length; p++)
        {
            double x = Margin + columnLeft[p % perRow];
            double y = top + rowTop[p / perRow];
            WritePanel(svg, layouts[p], scale, x, y, p);
        }

        legend.Write(svg, legendX, barTop);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    // The fewest grid rows whose panels fit the available width, balanced (six panels in rows of three, not four
    // and two), at most MaxColumnsPerRow to a row. To fit more panels in a row their cells may shrink, but to no
    // less than half their natural size: past that, another row reads better. One panel to a row always fits
    // (FitLayout shrinks it as far as it must).
    private static (PanelLayout[] Layouts, int PerRow) ChooseGrid(IReadOnlyList<HeatmapPanel> panels, HeatmapOptions options, double available)
    {
        var natural = new PanelLayout[panels.Count];
        for (int p = 0; p < natural.Length; p++)
        {
            natural[p] = PanelLayout.Create(panels[p], options);
        }

        for (int perRow = Math.Min(options.MaxColumnsPerRow, panels.Count); perRow > 1; perRow--)
        {
            int rows = (panels.Count + perRow - 1) / perRow;
            if ((panels.Count + rows - 1) / rows != perRow)
            {
                continue; // the same number of rows, balanced, comes with a smaller perRow
            }

            if (GridWidth(natural, perRow) <= available)
            {
                return (natural, perRow);
            }

            double slot = (available - ((perRow - 1) * PanelGap)) / perRow;
            var fitted = new PanelLayout[panels.Count];
            bool readable = true;
            for (int p = 0; p < fitted.Length && readable; p++)
            {
                fitted[p] = FitLayout(panels[p], options, slot);
                readable = fitted[p].CellWidth >= natural[p].CellWidth * MinGridShrink && fitted[p].CellHeight >= natural[p].CellHeight * MinGridShrink;
            }

            if (readable && GridWidth(fitted, perRow) <= available)
            {
                return (fitted, perRow);
            }
        }

        var single = new PanelLayout[panels.Count];
        for (int p = 0; p < single.Length; p++)
        {
            single[p] = FitLayout(panels[p], options, available);
        }

        return (single, 1);
    }

    // The panel laid out with its cells shrunk, when it must be, until it fits `available` px alone; its labels and
    // title do not shrink, so a panel of very long labels may stay wider.
    private static PanelLayout FitLayout(HeatmapPanel panel, HeatmapOptions options, double available)
    {
        PanelLayout layout = PanelLayout.Create(panel, options);
        int budget = options.MaxPanelSize;
        for (int attempt = 0; attempt < 8 && layout.Width > available && budget > MinPanelSize; attempt++)
        {
            // The matrix is at most `budget` px on its longer side: take off what the panel overhangs, and a pixel
            // per column more, since cells round down to whole pixels.
            budget = Math.Max(MinPanelSize, Math.Min(budget, (int)Math.Ceiling(layout.MatrixWidth)) - (int)Math.Ceiling(layout.Width - available) - 1);
            layout = PanelLayout.Create(panel, options with { MaxPanelSize = budget });
        }

        return layout;
    }

    // The width of a grid of `perRow` columns, each as wide as its widest panel, with gaps between them.
    private static double GridWidth(PanelLayout[] layouts, int perRow)
    {
        var widths = new double[perRow];
        for (int p = 0; p < layouts.Length; p++)
        {
            widths[p % perRow] = Math.Max(widths[p % perRow], layouts[p].Width);
        }

        return widths.Sum() + ((perRow - 1) * PanelGap);
    }

    private static void WritePanel(StringBuilder svg, PanelLayout layout, ColorScale scale, double x, double y, int index)
    {
        IFormatProvider inv = CultureInfo.InvariantCulture;
        HeatmapPanel panel = layout.Panel;
        svg.Append(inv, $"<g id=\"sa-panel-{index}\" transform=\"translate({SvgText.Px(x)} {SvgText.Px(y)})\">\n");
        svg.Append(inv, $"<text x=\"{SvgText.Px(layout.TitleX)}\" y=\"{PanelLayout.TitleBaseline}\" text-anchor=\"middle\" font-size=\"{PanelLayout.TitleFontSize}\" font-weight=\"bold\" fill=\"#111111\">{SvgText.Escape(panel.Title)}</text>\n");
        WriteLabels(svg, layout, index);

        svg.Append(inv, $"<g transform=\"translate({SvgText.Px(layout.MatrixLeft)} {SvgText.Px(layout.MatrixTop)})\">\n");
        if (layout.IsRaster)
        {
            WriteRaster(svg, layout, scale, index);
        }
        else
        {
            WriteCells(svg, layout, scale, index);
        }

        svg.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{SvgText.Px(layout.MatrixWidth)}\" height=\"{SvgText.Px(layout.MatrixHeight)}\" fill=\"none\" stroke=\"#666666\" stroke-width=\"0.5\"/>\n");
        svg.Append("</g>\n</g>\n");
    }

    private static void WriteLabels(StringBuilder svg, PanelLayout layout, int index)
    {
        IFormatProvider inv = CultureInfo.InvariantCulture;
        double fontSize = PanelLayout.LabelFontSize;
        // Row labels: right-aligned left of the matrix, vertically centred on their row (0.35 em ≈ half the x-height).
        svg.Append(inv, $"<g id=\"sa-panel-{index}-rows\" font-size=\"{fontSize}\" fill=\"#222222\" text-anchor=\"end\">\n");
        for (int i = 0; i < layout.RowText.Length; i += layout.RowStep)
        {
            double ty = layout.MatrixTop + ((i + 0.5) * layout.CellHeight) + (fontSize * 0.35);
            svg.Append(inv, $"<text x=\"{SvgText.Px(layout.MatrixLeft - 6)}\" y=\"{SvgText.Px(ty)}\">{SvgText.Escape(layout.RowText[i])}</text>\n");
        }

        svg.Append("</g>\n");

        // Column labels above the matrix: centred when they fit, else rotated about their anchor point.
        string anchor = layout.ColumnRotation == 0 ? "middle" : "start";
        svg.Append(inv, $"<g id=\"sa-panel-{index}-columns\" font-size=\"{fontSize}\" fill=\"#222222\" text-anchor=\"{anchor}\">\n");
        for (int j = 0; j < layout.ColumnText.Length; j += layout.ColumnStep)
        {
            double centre = layout.MatrixLeft + ((j + 0.5) * layout.CellWidth);
            string text = SvgText.Escape(layout.ColumnText[j]);
            switch (layout.ColumnRotation)
            {
                case 0:
                    svg.Append(inv, $"<text x=\"{SvgText.Px(centre)}\" y=\"{SvgText.Px(layout.MatrixTop - 6)}\">{text}</text>\n");
                    break;
                case -45:
                {
                    double tx = SvgText.Px(centre - (fontSize * 0.25)), ty = SvgText.Px(layout.MatrixTop - 5);
                    svg.Append(inv, $"<text x=\"{tx}\" y=\"{ty}\" transform=\"rotate(-45 {tx} {ty})\">{text}</text>\n");
                    break;
                }

                default:
                {
                    double tx = SvgText.Px(centre + (fontSize * 0.35)), ty = SvgText.Px(layout.MatrixTop - 6);
                    svg.Append(inv, $"<text x=\"{tx}\" y=\"{ty}\" transform=\"rotate(-90 {tx} {ty})\">{text}</text>\n");
                    break;
                }
            }
        }

        svg.Append("</g>\n");
    }

    // One rect per cell at (j·width, i·height) inside the matrix group; value text goes in a second group on top that
    // ignores the pointer, so hovering the text still shows the cell's tooltip.
    private static void WriteCells(StringBuilder svg, PanelLayout layout, ColorScale scale, int index)
    {
        IFormatProvider inv = CultureInfo.InvariantCulture;
        HeatmapPanel panel = layout.Panel;
        int rows = panel.Rows, columns = panel.Columns;
        double width = layout.CellWidth, height = layout.CellHeight;

        // Thin white borders; none on cells so small that a border would wash out their colour.
        double smaller = Math.Min(width, height);
        string border = smaller >= 12 ? " stroke=\"#ffffff\" stroke-width=\"1\"" : smaller >= 6 ? " stroke=\"#ffffff\" stroke-width=\"0.5\"" : "";
        svg.Append(inv, $"<g id=\"sa-panel-{index}-cells\"{border}>\n");
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                float v = panel.Values[(i * columns) + j];
                bool masked = panel.IsMasked(i, j);
                string fill = masked ? $"url(#{ColorBar.MaskedPatternId})" : float.IsNaN(v) ? $"url(#{ColorBar.NaNPatternId})" : scale.Color(v).Hex;
                svg.Append(inv, $"<rect x=\"{SvgText.Px(j * width)}\" y=\"{SvgText.Px(i * height)}\" width=\"{SvgText.Px(width)}\" height=\"{SvgText.Px(height)}\" fill=\"{fill}\"");
                if (layout.HasTooltips)
                {
                    string shown = masked ? "masked" : SvgText.TooltipValue(v);
                    svg.Append(inv, $"><title>query {i} '{SvgText.Escape(panel.RowLabels[i])}' → key {j} '{SvgText.Escape(panel.ColumnLabels[j])}': {shown}</title></rect>\n");
                }
                else
                {
                    svg.Append("/>\n");
                }
            }
        }

        svg.Append("</g>\n");
        if (!layout.HasTooltips)
        {
            svg.Append(inv, $"<title>{SvgText.Escape(panel.Title)}: {rows} queries × {columns} keys (no per-cell tooltips above {PanelLayout.MaxTooltipCells} cells)</title>\n");
        }

        if (layout.ValueFontSize > 0)
        {
            double fontSize = SvgText.Px(layout.ValueFontSize);
            svg.Append(inv, $"<g id=\"sa-panel-{index}-values\" font-size=\"{fontSize}\" text-anchor=\"middle\" pointer-events=\"none\">\n");
            for (int i = 0; i < rows; i++)
            {
                for (int j = 0; j < columns; j++)
                {
                    if (panel.IsMasked(i, j))
                    {
                        continue; // the hatch says it: a "0.00" there would read as a weight
                    }

                    float v = panel.Values[(i * columns) + j];
                    string ink = scale.Color(v).ContrastingText.Hex;
                    double tx = SvgText.Px((j + 0.5) * width), ty = SvgText.Px(((i + 0.5) * height) + (fontSize * 0.35));
                    svg.Append(inv, $"<text x=\"{tx}\" y=\"{ty}\" fill=\"{ink}\">{SvgText.CellValue(v)}</text>\n");
                }
            }

            svg.Append("</g>\n");
        }
    }

    // The whole matrix as one palette PNG, one pixel per cell, stretched to the matrix size without smoothing
    // (image-rendering: optimizeSpeed is SVG 1.1's spelling, pixelated the CSS one browsers honour).
    private static void WriteRaster(StringBuilder svg, PanelLayout layout, ColorScale scale, int index)
    {
        IFormatProvider inv = CultureInfo.InvariantCulture;
        HeatmapPanel panel = layout.Panel;
        var indices = new byte[panel.Values.Length];
        for (int k = 0; k < indices.Length; k++)
        {
            indices[k] = panel.Masked is { } masked && masked[k] ? ColorScale.MaskedLevel : scale.Level(panel.Values[k]);
        }

        byte[] png = IndexedPng.Encode(indices, panel.Columns, panel.Rows, ColorScale.Palette());
        svg.Append(inv, $"<image id=\"sa-panel-{index}-image\" x=\"0\" y=\"0\" width=\"{SvgText.Px(layout.MatrixWidth)}\" height=\"{SvgText.Px(layout.MatrixHeight)}\" preserveAspectRatio=\"none\" image-rendering=\"optimizeSpeed\" style=\"image-rendering:pixelated\" xlink:href=\"data:image/png;base64,")
            .Append(Convert.ToBase64String(png))
            .Append(inv, $"\"><title>{SvgText.Escape(panel.Title)}: {panel.Rows} queries × {panel.Columns} keys (no per-cell tooltips above {PanelLayout.MaxTooltipCells} cells)</title></image>\n");
    }
}
