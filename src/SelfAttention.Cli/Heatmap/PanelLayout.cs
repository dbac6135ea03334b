namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// The geometry of one panel, relative to its slot in the grid, and what it draws (cells or a raster image,
/// tooltips, values, which labels).
/// </summary>
/// <remarks>
/// <code>
///  (0,0) ┌──────────────────────────────────────┐
///        │             panel title              │ TitleHeight
///        │          ╱  ╱  ╱  ╱  column labels   │ ColumnLabelHeight (rotated −45° or −90° when they do not fit)
///        │  row     ┌──┬──┬──┬──┐               │ ← MatrixTop
///        │  labels  │  │  │  │  │ cells:        │
///        │          ├──┼──┼──┼──┤ Cell × Cell   │
///        │          │  │  │  │  │               │
///        └──────────┴──┴──┴──┴──┴───────────────┘ Height
///              MatrixLeft        MatrixLeft + MatrixWidth (+ overhang of the last rotated label) = Width
/// </code>
/// </remarks>
internal sealed class PanelLayout
{
    /// <summary>Font size of row and column labels, px.</summary>
    public const double LabelFontSize = 11;

    /// <summary>Font size of the panel title, px (bold).</summary>
    public const double TitleFontSize = 13;

    /// <summary>The largest cell side, px, when values are printed in the cells.</summary>
    public const double MaxCellSize = 40;

    /// <summary>The largest cell side, px, without values: enough for a label per row and column.</summary>
    public const double MaxPlainCellSize = 24;

    /// <summary>A very elongated matrix (one query over many keys) has its short side stretched to about this many px.</summary>
    public const double MinMatrixSide = 120;

    /// <summary>Above this many cells (or below <see cref="MinVectorCellSize"/>) a panel is one embedded PNG, not one rect per cell.</summary>
    public const int MaxVectorCells = 4096;

    /// <summary>Cells smaller than this (px) are drawn as an embedded PNG.</summary>
    public const double MinVectorCellSize = 4;

    /// <summary>Above this many cells a panel has no per-cell tooltips (they would dominate the file size).</summary>
    public const int MaxTooltipCells = 1024;

    private const double TitleHeight = 22;
    private const double LabelPad = 6;
    private const double Sin45 = 0.70710678118654757;

    private PanelLayout(HeatmapPanel panel) => Panel = panel;

    /// <summary>The panel drawn.</summary>
    public HeatmapPanel Panel { get; }

    /// <summary>The width of one cell, px (whole pixels unless there are more columns than pixels in the panel size).</summary>
    public double CellWidth { get; private init; }

    /// <summary>The height of one cell, px; equal to <see cref="CellWidth"/> unless the matrix is very elongated.</summary>
    public double CellHeight { get; private init; }

    /// <summary>Whether the cells are one embedded palette PNG rather than one <c>&lt;rect&gt;</c> each.</summary>
    public bool IsRaster { get; private init; }

    /// <summary>Whether each cell carries a <c>&lt;title&gt;</c> tooltip.</summary>
    public bool HasTooltips { get; private init; }

    /// <summary>The font size of the values printed in the cells, or 0 when they are not printed.</summary>
    public double ValueFontSize { get; private init; }

    /// <summary>Every <c>RowStep</c>-th row label is drawn (1 = all), so labels never overlap.</summary>
    public int RowStep { get; private init; }

    /// <summary>Every <c>ColumnStep</c>-th column label is drawn (1 = all).</summary>
    public int ColumnStep { get; private init; }

    /// <summary>Column label angle: 0 (horizontal), −45 or −90 degrees.</summary>
    public int ColumnRotation { get; private init; }

    /// <summary>The row labels as drawn (shortened), unescaped.</summary>
    public string[] RowText { get; private init; } = [];

    /// <summary>The column labels as drawn (shortened), unescaped.</summary>
    public string[] ColumnText { get; private init; } = [];

    /// <summary>Centre of the panel title.</summary>
    public double TitleX { get; private init; }

    /// <summary>Baseline of the panel title.</summary>
    public static double TitleBaseline => 15;

    /// <summary>Left edge of the matrix.</summary>
    public double MatrixLeft { get; private init; }

    /// <summary>Top edge of the matrix.</summary>
    public double MatrixTop { get; private init; }

    /// <summary>Columns × <see cref="CellWidth"/>.</summary>
    public double MatrixWidth { get; private init; }

    /// <summary>Rows × <see cref="CellHeight"/>.</summary>
    public double MatrixHeight { get; private init; }

    /// <summary>The width the panel needs, labels and title included.</summary>
    public double Width { get; private init; }

    /// <summary>The height the panel needs.</summary>
    public double Height { get; private init; }

    /// <summary>Lays out <paramref name="panel"/> under <paramref name="options"/>.</summary>
    public static PanelLayout Create(HeatmapPanel panel, HeatmapOptions options)
    {
        int rows = panel.Rows, columns = panel.Columns;
        long cells = (long)rows * columns;

        // Square cells sized so the longer side fits MaxPanelSize; whole pixels keep edges crisp. A short side
        // below MinMatrixSide is stretched towards it, so one query over 300 keys is a strip, not a hairline.
        bool wantValues = options.ShowValues ?? (rows <= SvgHeatmap.AutoValuesMaxSide && columns <= SvgHeatmap.AutoValuesMaxSide);
        double cap = wantValues ? MaxCellSize : MaxPlainCellSize;
        double square = CellSize(options.MaxPanelSize / (double)Math.Max(rows, columns), cap);
        double cellWidth = columns * square < MinMatrixSide ? Math.Max(square, CellSize(MinMatrixSide / columns, cap)) : square;
        double cellHeight = rows * square < MinMatrixSide ? Math.Max(square, CellSize(MinMatrixSide / rows, cap)) : square;
        double cell = Math.Min(cellWidth, cellHeight);
        bool raster = cells > MaxVectorCells || cell < MinVectorCellSize;

        // Value text: about 5 characters ("-0.25") at 0.6 em must fit in the cell with a pixel either side.
        double valueFont = wantValues && !raster ? Math.Min(Math.Min(11, (cellWidth - 2) / 3.0), cellHeight * 0.6) : 0;
        if (valueFont < 5)
        {
            valueFont = 0;
        }

        // Labels closer than one line apart would overlap: draw every step-th one.
        int rowStep = (int)Math.Ceiling((LabelFontSize + 2) / cellHeight);
        int columnLabelStep = (int)Math.Ceiling((LabelFontSize + 2) / cellWidth);
        string[] rowText = Shorten(panel.RowLabels);
        string[] columnText = Shorten(panel.ColumnLabels);
        double rowLabelWidth = Math.Ceiling(MaxWidth(rowText, rowStep) + LabelPad + 4);

        double allColumnsWidth = MaxWidth(columnText, 1);
        int rotation, columnStep;
        double columnLabelHeight, overhang;
        if (columnLabelStep == 1 && allColumnsWidth + 4 <= cellWidth)
        {
            (rotation, columnStep, overhang) = (0, 1, 0);
            columnLabelHeight = LabelFontSize + LabelPad + 2;
        }
        else if (columnLabelStep == 1 && cellWidth >= (LabelFontSize + 2) / Sin45)
        {
            // Baselines climb to the upper right from each column's centre; the last label overhangs the matrix.
            (rotation, columnStep) = (-45, 1);
            columnLabelHeight = ((allColumnsWidth + LabelFontSize) * Sin45) + LabelPad + 2;
            overhang = Math.Max(0, (allColumnsWidth * Sin45) + (LabelFontSize * 0.3) - (cellWidth / 2));
        }
        else
        {
            (rotation, columnStep, overhang) = (-90, columnLabelStep, 0);
            columnLabelHeight = MaxWidth(columnText, columnLabelStep) + LabelPad + 4;
        }

        double matrixWidth = columns * cellWidth, matrixHeight = rows * cellHeight;
        double matrixTop = Math.Ceiling(TitleHeight + columnLabelHeight);
        double titleWidth = SvgText.EstimateWidth(panel.Title, TitleFontSize) * 1.1;
        double titleX = Math.Max(rowLabelWidth + (matrixWidth / 2), titleWidth / 2);
        double width = Math.Max(rowLabelWidth + matrixWidth + overhang, titleX + (titleWidth / 2));

        return new PanelLayout(panel)
        {
            CellWidth = cellWidth,
            CellHeight = cellHeight,
            IsRaster = raster,
            HasTooltips = !raster && cells <= MaxTooltipCells,
            ValueFontSize = valueFont,
            RowStep = rowStep,
            ColumnStep = columnStep,
            ColumnRotation = rotation,
            RowText = rowText,
            ColumnText = columnText,
            TitleX = titleX,
            MatrixLeft = rowLabelWidth,
            MatrixTop = matrixTop,
            MatrixWidth = matrixWidth,
            MatrixHeight = matrixHeight,
            Width = Math.Ceiling(width),
            Height = Math.Ceiling(matrixTop + matrixHeight),
        };
    }

    // The cell side for a budget of `fit` px per cell: capped, whole pixels while at least 1 px.
    private static double CellSize(double fit, double cap) => fit >= cap ? cap : fit >= 1 ? Math.Floor(fit) : fit;

    private static string[] Shorten(IReadOnlyList<string> labels)
    {
        var text = new string[labels.Count];
        for (int k = 0; k < text.Length; k++)
        {
            text[k] = SvgText.Shorten(labels[k]);
        }

        return text;
    }

    private static double MaxWidth(string[] labels, int step)
    {
        double max = 0;
        for (int k = 0; k < labels.Length; k += step)
        {
            max = Math.Max(max, SvgText.EstimateWidth(labels[k], LabelFontSize));
        }

        return max;
    }
}
