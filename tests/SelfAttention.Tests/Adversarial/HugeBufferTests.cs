using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;
using SelfAttention.Tokenization;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Buffers of 2²⁹ floats (2 GiB) and more are legal spans: an overlap check must not go through a byte view, which cannot
/// describe them (<c>MemoryMarshal.AsBytes</c> throws <see cref="OverflowException"/>). Each case passes an output that
/// overlaps its input inside one 2 GiB native block and expects the overlap to be reported. The block is reserved, not
/// touched: nothing but the validation runs, so no page is committed.
/// </summary>
[Collection(Allocation.AllocationCollection.Name)]
public unsafe class HugeBufferTests
{
    private const int Huge = 1 << 29;

    private static void WithHugeBlock(Action<nint> test)
    {
        void* block = NativeMemory.AllocZeroed((nuint)Huge + 1, sizeof(float));
        try
        {
            test((nint)block);
        }
        finally
        {
            NativeMemory.Free(block);
        }
    }

    private static Span<float> At(nint block, int offset, int length) => new((float*)block + offset, length);

    private static void AssertOverlapReported(Action call, string parameter)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Equal(parameter, e.ParamName);
    }

    [Fact]
    public void Layer_SelfAttention_OutputOverlappingAHugeInput_IsReported() => WithHugeBlock(block =>
    {
        var layer = new MultiHeadAttention(1, 1, useBias: false);
        AssertOverlapReported(() => layer.Forward(At(block, 0, Huge), At(block, 1, Huge), 1, Huge), "output");
    });

    [Fact]
    public void KvCache_Attend_OutputOverlappingAHugeQuery_IsReported() => WithHugeBlock(block =>
    {
        var cache = new KvCache(1, 1, 1);
        cache.Append([1f], [1f], 1);
        AssertOverlapReported(() => cache.Attend(At(block, 0, Huge), At(block, 1, Huge), 1, Huge), "output");
    });

    [Fact]
    public void WeightedSum_DestinationOverlappingHugeValues_IsReported() => WithHugeBlock(block =>
        AssertOverlapReported(() => AttentionPrimitives.WeightedSum([1f], At(block, 0, Huge), At(block, 1, Huge)), "destination"));

    [Fact]
    public void Softmax_DestinationOverlappingAHugeSource_IsReported() => WithHugeBlock(block =>
        AssertOverlapReported(() => AttentionPrimitives.Softmax(At(block, 0, Huge), At(block, 1, Huge)), "destination"));

    [Fact]
    public void Lookup_DestinationOverlappingHugeIds_IsReported() => WithHugeBlock(block =>
    {
        var table = new EmbeddingTable(2, 1);
        AssertOverlapReported(() => table.Lookup(MemoryMarshal.Cast<float, int>(At(block, 0, Huge)), At(block, 1, Huge)), "destination");
    });

    [Fact]
    public void ComputeMultiHead_OutputOverlappingAHugeQuery_IsReported() => WithHugeBlock(block =>
        AssertOverlapReported(() => Attention.ComputeMultiHead(At(block, 0, Huge), [], [], At(block, 1, Huge), new AttentionShape(1, Huge, 0, 1, 1)), "output"));

    [Fact]
    public void Compute_OutputOverlappingAHugeQuery_IsReported() => WithHugeBlock(block =>
        AssertOverlapReported(() =>
        {
            var query = new ReadOnlySpan2D<float>((float*)block, Huge, 1, 0);
            var output = new Span2D<float>((float*)block + 1, Huge, 1, 0);
            Attention.Compute(query, query.Slice(0, 0, 1, 1), query.Slice(0, 0, 1, 1), output);
        }, "output"));
}
