using SelfAttention.Kernels;

namespace SelfAttention.Transformers.Kernels;

/// <summary>The activations as <see cref="IRowEpilogue"/>s of the packed GEMM: each finished run of a tile, in place.</summary>
internal static unsafe class ActivationEpilogues
{
    internal readonly struct Gelu : IRowEpilogue
    {
        public static void Apply(float* values, int count) => Elementwise.Apply<ActivationOperators.GeluOperator>(new ReadOnlySpan<float>(values, count), new Span<float>(values, count));
    }

    internal readonly struct GeluTanh : IRowEpilogue
    {
        public static void Apply(float* values, int count) => Elementwise.Apply<ActivationOperators.GeluTanhOperator>(new ReadOnlySpan<float>(values, count), new Span<float>(values, count));
    }

    internal readonly struct Silu : IRowEpilogue
    {
        public static void Apply(float* values, int count) => Elementwise.Apply<ActivationOperators.SiluOperator>(new ReadOnlySpan<float>(values, count), new Span<float>(values, count));
    }

    internal readonly struct Relu : IRowEpilogue
    {
        public static void Apply(float* values, int count) => Elementwise.Apply<ActivationOperators.ReluOperator>(new ReadOnlySpan<float>(values, count), new Span<float>(values, count));
    }
}
