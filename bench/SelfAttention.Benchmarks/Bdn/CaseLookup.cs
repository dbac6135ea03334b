using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>Reads the shape, the implementation and the mean time of a case, and finds its sibling with another implementation.</summary>
internal static class CaseLookup
{
    public static BenchmarkShape? Shape(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Parameters[nameof(AttentionBenchmarks.Shape)] as BenchmarkShape;

    public static string? Implementation(BenchmarkCase benchmarkCase) =>
        (benchmarkCase.Parameters[nameof(AttentionBenchmarks.Implementation)] as ImplementationParameter)?.Name;

    /// <summary>Mean time per call in nanoseconds, or NaN when the case has no result.</summary>
    public static double MeanNanoseconds(Summary summary, BenchmarkCase benchmarkCase) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean ?? double.NaN;

    /// <summary>The case with the same job and parameters but implementation <paramref name="implementation"/>, if it ran.</summary>
    public static BenchmarkCase? Sibling(Summary summary, BenchmarkCase benchmarkCase, string implementation)
    {
        foreach (var other in summary.BenchmarksCases)
        {
            if (Implementation(other) == implementation
                && other.Job.DisplayInfo == benchmarkCase.Job.DisplayInfo
                && other.Descriptor.WorkloadMethod == benchmarkCase.Descriptor.WorkloadMethod
                && SameParametersBut(other, benchmarkCase, nameof(AttentionBenchmarks.Implementation)))
            {
                return other;
            }
        }

        return null;
    }

    private static bool SameParametersBut(BenchmarkCase a, BenchmarkCase b, string except)
    {
        foreach (var parameter in a.Parameters.Items)
        {
            if (parameter.Name != except && !Equals(parameter.Value, b.Parameters[parameter.Name]))
            {
                return false;
            }
        }

        return true;
    }
}
