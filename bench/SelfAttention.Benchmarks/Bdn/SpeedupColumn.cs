using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// Mean time of the same shape with implementation <c>reference</c> over this case's: above 1, this case is faster.
/// BenchmarkDotNet's own Ratio column compares benchmark methods, not parameter values, so the baseline
/// (Naive) and the peers are compared through this column instead.
/// </summary>
public sealed class SpeedupColumn(string reference, string header) : IColumn
{
    /// <inheritdoc/>
    public string Id => $"Speedup.{reference}";

    /// <inheritdoc/>
    public string ColumnName => header;

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => 10;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => $"Mean time of {reference} at the same shape / this mean time (above 1: faster than {reference}; '-': {reference} did not run there)";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var sibling = CaseLookup.Sibling(summary, benchmarkCase, reference);
        double mine = CaseLookup.MeanNanoseconds(summary, benchmarkCase);
        double theirs = sibling is null ? double.NaN : CaseLookup.MeanNanoseconds(summary, sibling);
        if (double.IsNaN(mine) || double.IsNaN(theirs))
        {
            return "-";
        }

        double ratio = theirs / mine;
        return ratio.ToString(ratio < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
