namespace SelfAttention.Cli.Walkthrough;

/// <summary>How a matrix's cells are printed.</summary>
internal enum CellFormat
{
    /// <summary>Four decimals: <c>0.5123</c>.</summary>
    Number,

    /// <summary>A share of 100: <c>41.2%</c>.</summary>
    Percent,

    /// <summary>Whole numbers (token ids).</summary>
    Integer,
}

/// <summary>
/// A matrix with a name and a label per row and column, as a walkthrough step shows it: token names on the rows
/// (and, for attention weights, on the columns). <see cref="Values"/> is row-major <c>[Rows, Columns]</c>.
/// </summary>
internal sealed record LabelledMatrix(string Name, IReadOnlyList<string> RowLabels, IReadOnlyList<string> ColumnLabels, float[] Values,
                                      CellFormat Format = CellFormat.Number)
{
    /// <summary>True for attention weights (rows: queries, columns: keys); these are what <c>heatmap --example</c> draws.</summary>
    public bool IsAttentionWeights { get; init; }

    /// <summary>Rows.</summary>
    public int Rows => RowLabels.Count;

    /// <summary>Columns.</summary>
    public int Columns => ColumnLabels.Count;

    /// <summary>The cell at row <paramref name="row"/>, column <paramref name="column"/>.</summary>
    public float this[int row, int column] => Values[row * Columns + column];

    /// <summary>Column labels d0, d1, … for embedding dimensions.</summary>
    public static IReadOnlyList<string> DimensionLabels(int count, string prefix = "d") =>
        Enumerable.Range(0, count).Select(c => $"{prefix}{c}").ToArray();
}

/// <summary>One step of a walkthrough: a title, what it does and why, and the matrices it produces.</summary>
internal sealed record WalkthroughStep(string Title, string Explanation, IReadOnlyList<LabelledMatrix> Matrices);

/// <summary>One of the classic examples, run through the library step by step.</summary>
internal sealed record WalkthroughExample(int Number, string Title, string Sentence, IReadOnlyList<WalkthroughStep> Steps);
