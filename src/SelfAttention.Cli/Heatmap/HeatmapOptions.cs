namespace SelfAttention.Cli.Heatmap;

/// <summary>How <see cref="SvgHeatmap.Render"/> lays out and annotates the panels.</summary>
internal sealed record HeatmapOptions
{
    /// <summary>The defaults: no title or caption, values shown when the cells are big enough, up to four panels per row within 1200 px.</summary>
    public static HeatmapOptions Default { get; } = new();

    /// <summary>A heading above all panels, or null for none.</summary>
    public string? Title { get; init; }

    /// <summary>A line under the title, e.g. "rows: queries; columns: keys", or null for none.</summary>
    public string? Caption { get; init; }

    /// <summary>
    /// Whether to print each value inside its cell: null (the default) prints them when a panel is at most
    /// <see cref="SvgHeatmap.AutoValuesMaxSide"/> × <see cref="SvgHeatmap.AutoValuesMaxSide"/>; true prints them
    /// whenever cells are drawn one by one and the text still fits; false never.
    /// </summary>
    public bool? ShowValues { get; init; }

    /// <summary>
    /// The most panels per row of the grid; more panels wrap to further rows, and fewer sit in a row when they would
    /// not fit <see cref="MaxWidth"/>. At least 1; default 4.
    /// </summary>
    public int MaxColumnsPerRow { get; init; } = 4;

    /// <summary>
    /// The widest the document may be, px, colour bar included (a page or a screen): panels wrap to as many rows as
    /// it takes, and a single panel wider than that has its cells shrunk. Only a title or caption too long for the
    /// page, or a panel whose labels alone are wider, can make the document wider. At least
    /// <see cref="SvgHeatmap.MinWidth"/>; default 1200.
    /// </summary>
    public int MaxWidth { get; init; } = 1200;

    /// <summary>
    /// The largest side, in px, of one panel's matrix: cells shrink so that max(rows, columns) × cell fits.
    /// At least <see cref="SvgHeatmap.MinPanelSize"/>; default 1200.
    /// </summary>
    public int MaxPanelSize { get; init; } = 1200;

    /// <summary>The colour bar's heading.</summary>
    public string ValueLabel { get; init; } = "attention weight";
}
