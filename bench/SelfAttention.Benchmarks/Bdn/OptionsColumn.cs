using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>The attention options of the run (<c>bdn --causal</c>, <c>--threads</c>), which are settings rather than parameters.</summary>
public sealed class OptionsColumn : IColumn
{
    /// <summary>The column.</summary>
    public static readonly OptionsColumn Instance = new();

    /// <inheritdoc/>
    public string Id => "AttentionOptions";

    /// <inheritdoc/>
    public string ColumnName => "Options";

    /// <inheritdoc/>
    public bool AlwaysShow => true;

    /// <inheritdoc/>
    public ColumnCategory Category => ColumnCategory.Params;

    /// <inheritdoc/>
    public int PriorityInCategory => 100;

    /// <inheritdoc/>
    public bool IsNumeric => false;

    /// <inheritdoc/>
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc/>
    public string Legend => "Mask (full or causal) and MaxDegreeOfParallelism of the library kernels, also the IntraOpNumThreads of the ONNX Runtime routes; the other peers use one thread";

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    /// <inheritdoc/>
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        $"{(BdnSettings.Causal ? "causal" : "full")}, {BdnSettings.Threads} thr";

    /// <inheritdoc/>
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc/>
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
