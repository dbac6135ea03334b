using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using SelfAttention.Benchmarks.Commands;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// The softmax middle step over one row of scores, <c>e^(s − max)</c> plus the row sum: the library's fused float
/// polynomial exp against the same step composed from TensorPrimitives (Subtract, Exp, Sum). TensorPrimitives.Exp for
/// float is the baseline.
/// </summary>
[MemoryDiagnoser]
public class ExpBenchmarks
{
    private float[] _scores = [];
    private float[] _weights = [];

    /// <summary>Row length: a BERT-base row, a long row.</summary>
    [Params(128, 4096)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_scores, _weights) = ExpComparison.Inputs(Length);
    }

    [Benchmark(Baseline = true)]
    public float TensorPrimitivesExp() => ExpComparison.Composed(_scores, _weights, max: 0f);

    [Benchmark]
    public float FusedFastExp() => ExpComparison.Fused(_scores, _weights, max: 0f);
}
