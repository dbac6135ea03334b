using BenchmarkDotNet.Attributes;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// Every implementation of <see cref="BenchmarkRegistry"/> at every shape of DESIGN.md §6, both as parameters.
/// <see cref="BdnConfig"/> drops the pairs that are not run (the oracle and MathNet at the long shapes, a peer whose
/// native library is missing, a peer that cannot serve the shape with these options) and adds the GFLOP/s column and the speedups over Naive, the baseline, and the peers.
/// Each case is checked against the oracle in its global setup before BenchmarkDotNet times it.
/// </summary>
[MemoryDiagnoser]
public class AttentionBenchmarks
{
    private AttentionImplementation _implementation = null!;
    private AttentionBuffers _buffers = null!;
    private AttentionOptions _options;

    /// <summary>The shape.</summary>
    [ParamsSource(nameof(Shapes), Priority = -2)]
    public BenchmarkShape Shape { get; set; } = BenchmarkShape.All[0];

    /// <summary>The implementation's name.</summary>
    [ParamsSource(nameof(Implementations), Priority = -1)]
    public ImplementationParameter Implementation { get; set; } = new(NaiveImplementation.BaselineName);

    /// <summary>Every shape of DESIGN.md §6.</summary>
    public static IEnumerable<BenchmarkShape> Shapes => BenchmarkShape.All;

    /// <summary>Every implementation name, Naive first.</summary>
    public static IEnumerable<ImplementationParameter> Implementations => ImplementationParameter.All;

    /// <summary>Creates the implementation and the buffers and checks the last query rows against the oracle.</summary>
    /// <exception cref="InvalidOperationException">The implementation is unavailable or does not match the oracle.</exception>
    [GlobalSetup]
    public void Setup()
    {
        _implementation = BenchmarkRegistry.Implementations.Create(Implementation.Name);
        if (_implementation.UnavailableReason is { } reason)
        {
            throw new InvalidOperationException($"{Implementation}: {reason}");
        }

        _options = BdnSettings.AttentionOptions;
        if (_implementation.UnsupportedReason(Shape.Shape, _options) is { } unsupported)
        {
            throw new InvalidOperationException($"{Implementation} at {Shape}: {unsupported}");
        }

        _buffers = new AttentionBuffers(Shape.Shape);
        _implementation.Prepare(Shape.Shape);
        var reference = new LastRowsReference(_buffers, _options, rows: 8);
        _buffers.Run(_implementation, _options);
        var check = reference.Check(_buffers.Output);
        if (!check.Passed)
        {
            throw new InvalidOperationException($"{Implementation} at {Shape}: last {reference.Rows} rows {check}; not timed.");
        }

        Console.WriteLine($"// {Implementation} at {Shape}: last {reference.Rows} query rows match the oracle, {check}");
    }

    /// <summary>Releases what the implementation holds outside the managed heap (an ONNX Runtime session).</summary>
    [GlobalCleanup]
    public void Cleanup() => (_implementation as IDisposable)?.Dispose();

    /// <summary>One attention call.</summary>
    [Benchmark]
    public void Attention() => _buffers.Run(_implementation, _options);
}
