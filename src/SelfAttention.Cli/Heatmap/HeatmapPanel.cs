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

    /// <summary>
    /// masked: [rows, columns], row-major, or null for none: <c>true</c> where query <c>i</c> may not see key <c>j</c>.
    /// Masked cells are drawn hatched in grey and their tooltip says "masked", whatever their value (a masked weight is 0,
    /// but a 0 weight is not necessarily masked).
    /// </summary>
    public bool[]? Masked { get; init; }

    /// <summary>Whether cell (<paramref name="i"/>, <paramref name="j"/>) is masked.</summary>
    public bool IsMasked(int i, int j) => Masked is { } masked && masked[(i * Columns) + j];

    /// <summary>
    /// The bottom-right aligned causal mask of a <paramref name="rows"/> × <paramref name="columns"/> panel, as the
    /// library applies it: query <c>i</c> sees key <c>j</c> when <c>j ≤ i + (columns − rows)</c>.
    /// </summary>
    public static bool[] CausalMask(int rows, int columns)
    {
        var masked = new bool[rows * columns];
        long offset = (long)columns - rows;
        for (int i = 0; i < rows; i++)
        {
            for (int j = 0; j < columns; j++)
            {
                masked[(i * columns) + j] = j > i + offset;
            }
        }

        return masked;
    }
}
