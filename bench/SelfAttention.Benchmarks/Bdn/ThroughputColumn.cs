using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// GFLOP/s (dense flops, 2·B·H·nq·nk·(d+dv) per call, also for causal calls) or, for the decode shape, GB/s of K and V
/// read per call; both over the mean time.
/// </summary>
public sealed class ThroughputColumn(bool bandwidth) : IColumn
{
    /// <summary>The GFLOP/s column.</summary>
    public static readonly ThroughputColumn Flops = new(bandwidth: false);

    /// <summary>The K+V GB/s column (decode rows only).</summary>
    public static readonly ThroughputColumn Bandwidth = new(bandwidth: true);

    /// <inheritdoc/>
    public string Id => bandwidth ? "KvGBps" : "GFlops";

    /// <inheritdoc/>
    public string ColumnName => bandwidth ? "K+V GB/s" : "GFLOP/s";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc/>
    public int PriorityInCategory => bandwidth ? 1 : 0;

    /// <inheritdoc/>
    public bool IsNumeric => true;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => bandwidth
        ? "Decode only: bytes of K and V read per call (4·B·nk·KvH·(d+dv)) / mean time, in 10⁹ B/s"
        : $"Dense flops per call, 2·B·H·nq·nk·(d+dv), / mean time, in 10⁹/s{(BdnSettings.Causal ? "; the calls are causal but the dense count is kept (with nq = nk they do about half of it)" : "")}";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var shape = CaseLookup.Shape(benchmarkCase);
        double nanoseconds = CaseLookup.MeanNanoseconds(summary, benchmarkCase);
        if (shape is null || double.IsNaN(nanoseconds) || (bandwidth && !shape.IsDecode))
        {
            return "-";
        }

        double perNanosecond = (bandwidth ? shape.KeyValueBytes : shape.Flops) / nanoseconds; // = 10⁹ per second
        return perNanosecond.ToString(perNanosecond < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => !bandwidth || summary.BenchmarksCases.Any(c => CaseLookup.Shape(c)?.IsDecode == true);

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
