using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;
using SelfAttention.Tests.Validation;
using Xunit;

namespace SelfAttention.Tests.Hardening;

/// <summary>
/// Sizes at the edges of int: valid shapes whose scratch or byte counts pass <see cref="int.MaxValue"/>, and buffers of
/// 2²⁹ floats or more (2 GiB), which no byte span can describe. They either work or are an ArgumentException up front.
/// The huge buffers are native allocations that are never written: Linux maps untouched pages to the shared zero page,
/// so reading 4 GiB of zeros costs page faults, not 4 GiB of memory.
/// </summary>
[Collection(HugeMemoryCollection.Name)]
public unsafe class HugeShapeTests
{
    /// <summary>
    /// ValueDim = 2²⁵ − 5 with one key row: every buffer is under int.MaxValue floats, but the tiled kernel's scratch,
    /// 2·64·(d + dv + 4) floats, is 2³² (it wrote past its scratch, or threw OverflowException on a pool thread). Every
    /// kernel must give the right answer: the only key's value row.
    /// </summary>
    [Theory]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.Decode)]
    [InlineData(AttentionKernel.Auto)]
    [InlineData(AttentionKernel.RowByRow)]
    public void ValueDimNear2To25_Works(AttentionKernel kernel)
    {
        const int valueDim = (1 << 25) - 5, headDim = 4;
        var shape = new AttentionShape(Batch: 1, QueryLength: 1, KeyLength: 1, Heads: 1, HeadDim: headDim) { ValueDim = valueDim };
        float[] query = [1f, 2f, 3f, 4f], key = [4f, 3f, 2f, 1f];
        var value = new float[valueDim];
        for (int c = 0; c < valueDim; c += 4099)
        {
            value[c] = c;
        }

        var output = new float[valueDim];
        Attention.ComputeMultiHead(query, key, value, output, shape, new AttentionOptions { Kernel = kernel, MaxDegreeOfParallelism = 2 });
        for (int c = 0; c < valueDim; c += 4099)
        {
            Assert.True(output[c] == value[c], $"{kernel}: output[{c}] = {output[c]}, expected {value[c]}.");
        }

        Assert.True(output[valueDim - 1] == 0f && output[1] == 0f, $"{kernel}: channels without a value must be 0.");
    }

    /// <summary>
    /// 2²² keys of 128 channels: key and value are 2²⁹ floats each (2 GiB). The overlap checks used to throw
    /// OverflowException from MemoryMarshal.AsBytes; now the call runs (the zero values give a zero output).
    /// </summary>
    [Theory]
    [InlineData(AttentionKernel.Auto)]
    [InlineData(AttentionKernel.RowByRow)]
    public void TwoGibibyteKeyAndValue_Work(AttentionKernel kernel)
    {
        const int keyLength = 1 << 22, headDim = 128;
        using var key = new NativeFloats((long)keyLength * headDim);
        using var value = new NativeFloats((long)keyLength * headDim);
        var query = new float[headDim];
        query.AsSpan().Fill(1f);
        var output = new float[headDim];
        output.AsSpan().Fill(7f);
        var shape = new AttentionShape(Batch: 1, QueryLength: 1, KeyLength: keyLength, Heads: 1, HeadDim: headDim);
        Attention.ComputeMultiHead(query, key.Span, value.Span, output, shape, new AttentionOptions { Kernel = kernel });
        Assert.True(output.All(x => x == 0f), $"{kernel}: zero values must give a zero output.");

        var single = new float[1, headDim];
        Attention.Compute(new ReadOnlySpan2D<float>(query, 1, headDim), key.View(keyLength, headDim), value.View(keyLength, headDim),
                          single.AsSpan2D(), new AttentionOptions { Kernel = kernel });
        Assert.True(single.Cast<float>().All(x => x == 0f), $"{kernel}, one head: zero values must give a zero output.");
    }

    /// <summary>An output overlapping a 2 GiB input is reported as an overlap, naming the output, with nothing written.</summary>
    [Fact]
    public void OverlapOfTwoGibibyteBuffers_IsAnArgumentException()
    {
        const int rows = 1 << 22, headDim = 128;
        using var memory = new NativeFloats((long)rows * headDim + 256);
        var shape = new AttentionShape(Batch: 1, QueryLength: rows, KeyLength: 1, Heads: 1, HeadDim: headDim);
        float[] key = new float[headDim], value = new float[headDim];
        ReadOnlySpan<float> query = memory.Span[..(rows * headDim)];
        ContractAssert.Throws(() => Attention.ComputeMultiHead(memory.Span[..(rows * headDim)], key, value, memory.Span[256..], shape),
                              "output", "output overlapping a 2 GiB query");
        ContractAssert.Throws(() => Attention.Compute(memory.View(rows, headDim), new ReadOnlySpan2D<float>(key, 1, headDim),
                                                      new ReadOnlySpan2D<float>(value, 1, headDim), memory.WritableView(rows, headDim, 256)),
                              "output", "single head: output overlapping a 2 GiB query");
        Assert.Equal(rows * headDim, query.Length);
    }

    /// <summary>Untouched native floats: reads see zeros; the pages a test never writes cost no memory.</summary>
    private sealed class NativeFloats : IDisposable
    {
        private readonly float* _pointer;
        private readonly long _length;

        public NativeFloats(long length)
        {
            _length = length;
            _pointer = (float*)NativeMemory.AllocZeroed((nuint)length, sizeof(float));
        }

        public Span<float> Span => new(_pointer, checked((int)_length));

        public ReadOnlySpan2D<float> View(int height, int width) => new(_pointer, height, width, 0);

        public Span2D<float> WritableView(int height, int width, int offset) => new(_pointer + offset, height, width, 0);

        public void Dispose() => NativeMemory.Free(_pointer);
    }
}

/// <summary>Tests that map gigabytes of (untouched) memory run one at a time, apart from every other test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HugeMemoryCollection
{
    public const string Name = "Huge memory";
}
