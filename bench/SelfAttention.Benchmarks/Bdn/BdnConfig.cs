using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// The BenchmarkDotNet configuration: the default one plus the GFLOP/s and GB/s columns, the speedups of the registry's
/// <see cref="ImplementationRegistry.RatioColumns"/> (over Naive, TensorPrimitives, both ONNX Runtime routes and
/// OpenBLAS), a filter that drops the pairs that are not run, and optionally one job per SIMD width.
/// </summary>
public static class BdnConfig
{
    private static readonly Dictionary<string, AttentionImplementation> s_implementations = [];

    /// <summary>Builds the configuration.</summary>
    /// <param name="simdJobs">Adds one job per SIMD width (the runtime's ISA switches): Vector512, Vector256, Vector128, scalar.</param>
    /// <param name="baseJob">With <paramref name="simdJobs"/>: dry, short, medium, long or default, the job each width is built on.</param>
    /// <exception cref="ArgumentException"><paramref name="baseJob"/> is not one of those names.</exception>
    public static IConfig Create(bool simdJobs, string? baseJob = null)
    {
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddColumn(OptionsColumn.Instance, ThroughputColumn.Flops, ThroughputColumn.Bandwidth)
            .AddColumn(BenchmarkRegistry.Implementations.RatioColumns.Select(c => (IColumn)new SpeedupColumn(c.Implementation, c.Header)).ToArray())
            .AddFilter(new SimpleFilter(IsRun));
        if (simdJobs)
        {
            var job = (baseJob?.ToLowerInvariant()) switch
            {
                null or "default" => Job.Default,
                "dry" => Job.Dry,
                "short" => Job.ShortRun,
                "medium" => Job.MediumRun,
                "long" => Job.LongRun,
                _ => throw new ArgumentException($"--job {baseJob}: with --simd, use dry, short, medium, long or default", nameof(baseJob)),
            };
            config.AddJob(
                job.WithId("Vector512"),
                job.WithId("Vector256").WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX512", "0")),
                job.WithId("Vector128").WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableAVX512", "0"),
                                                                 new EnvironmentVariable("DOTNET_EnableAVX2", "0")),
                job.WithId("Scalar").WithEnvironmentVariables(new EnvironmentVariable("DOTNET_EnableHWIntrinsic", "0")));
        }

        return config;
    }

    /// <summary>The pairs that are not run, one line each, for the console.</summary>
    public static IEnumerable<string> Exclusions()
    {
        var slowShapes = BenchmarkShape.All.Where(s => !s.IncludesSlowImplementations).Select(s => s.Name).ToArray();
        foreach (string name in BenchmarkRegistry.Implementations.Names)
        {
            var implementation = Get(name);
            if (implementation.UnavailableReason is { } reason)
            {
                yield return $"{name} skipped at every shape: {reason}";
            }
            else if (implementation.IsSlow)
            {
                yield return $"{name} not run at {string.Join(", ", slowShapes)} (seconds per call there)";
            }

            foreach (var shape in BenchmarkShape.All)
            {
                if (implementation.UnavailableReason is null && implementation.UnsupportedReason(shape.Shape, BdnSettings.AttentionOptions) is { } unsupported)
                {
                    yield return $"{name} not run at {shape.Name}: {unsupported}";
                }
            }
        }
    }

    private static bool IsRun(BenchmarkCase benchmarkCase)
    {
        string? name = CaseLookup.Implementation(benchmarkCase);
        var shape = CaseLookup.Shape(benchmarkCase);
        if (name is null || shape is null)
        {
            return true;
        }

        var implementation = Get(name);
        return implementation.UnavailableReason is null && (!implementation.IsSlow || shape.IncludesSlowImplementations)
               && implementation.UnsupportedReason(shape.Shape, BdnSettings.AttentionOptions) is null;
    }

    private static AttentionImplementation Get(string name)
    {
        lock (s_implementations)
        {
            if (!s_implementations.TryGetValue(name, out var implementation))
            {
                s_implementations[name] = implementation = BenchmarkRegistry.Implementations.Create(name);
            }

            return implementation;
        }
    }
}
