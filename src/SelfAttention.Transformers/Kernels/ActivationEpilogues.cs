using SelfAttention.Kernels;

namespace SelfAttention.Transformers.Kernels;

/// <summary>An activation as an <see cref="IRowEpilogue"/> of the packed GEMM: each finished run of a panel, in place.</summary>
internal readonly unsafe struct ActivationEpilogue<TOp> : IRowEpilogue
    where TOp : struct, IElementwiseOperator
{
    public static void Apply(float* values, int count) => Elementwise.Apply<TOp>(new ReadOnlySpan<float>(values, count), new Span<float>(values, count));
}
