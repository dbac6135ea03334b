namespace SelfAttention.Cli.Heatmap;

/// <summary>
/// One matrix to draw, usually the attention weights of one head: row <c>i</c> is query <c>i</c>, column <c>j</c> is key <c>j</c>.
/// </summary>
/// <param name="Title">Shown above the panel, e.g. "head 0".</param>
/// <param name="RowLabels">One label per row (query tokens), drawn on the left.</param>
/// <param name="ColumnLabels">One label per column (key tokens), drawn on top.</param>
/// <param name="Values">values: [rows, columns], row-major; NaN and ±∞ allowed.</param>
internal sealed record HeatmapPanel(string Title, IReadOnlyList<string> RowLabels, IReadOnlyList<string> ColumnLabels, float[] Values)
{
    /// <summary>The number of rows (queries).</summary>
    public int Rows => RowLabels.Count;

    /// <summary>The number of columns (keys).</summary>
    public int Columns => ColumnLabels.Count;
}
