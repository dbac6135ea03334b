using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Validation;

/// <summary>
/// Bad input to <see cref="Attention.ComputeMultiHead"/> and <see cref="NaiveAttention.ComputeMultiHead"/>: one fault per
/// case, the contract's exception naming the parameter, nothing written, the same exception from both.
/// </summary>
public class MultiHeadValidationTests
{
    private const float Sentinel = GuardedMatrix.Sentinel;

    /// <summary>A span of <paramref name="Length"/> floats at <paramref name="Offset"/> in buffer <paramref name="Buffer"/> (0 query, 1 key, 2 value, 3 output).</summary>
    public sealed record SpanSpec(int Buffer, int Offset, int Length);

    public sealed record BadCase(string Parameter, AttentionShape Shape, SpanSpec Query, SpanSpec Key, SpanSpec Value, SpanSpec Output, AttentionOptions Options);

    // The valid base: B = 2, nq = 3, nk = 5, H = 4, KvH = 2, d = 4, dv = 6.
    private static readonly AttentionShape s_shape = new(2, 3, 5, 4, 4) { KvHeads = 2, ValueDim = 6 };
    private const int QueryLength = 2 * 3 * 4 * 4, KeyLength = 2 * 5 * 2 * 4, ValueLength = 2 * 5 * 2 * 6, OutputLength = 2 * 3 * 4 * 6;
    private static readonly SpanSpec s_query = new(0, 0, QueryLength), s_key = new(1, 0, KeyLength), s_value = new(2, 0, ValueLength), s_output = new(3, 0, OutputLength);

    private static BadCase Base(string parameter) => new(parameter, s_shape, s_query, s_key, s_value, s_output, default);

    private static readonly Dictionary<string, BadCase> s_cases = new()
    {
        ["batch -1"] = Base("shape") with { Shape = s_shape with { Batch = -1 } },
        ["query length -1"] = Base("shape") with { Shape = s_shape with { QueryLength = -1 } },
        ["key length -1"] = Base("shape") with { Shape = s_shape with { KeyLength = -1 } },
        ["key length int.MinValue"] = Base("shape") with { Shape = s_shape with { KeyLength = int.MinValue } },
        ["heads 0"] = Base("shape") with { Shape = s_shape with { Heads = 0 } },
        ["heads -4"] = Base("shape") with { Shape = s_shape with { Heads = -4, KvHeads = -2 } },
        ["head dim 0"] = Base("shape") with { Shape = s_shape with { HeadDim = 0 } },
        ["head dim -1"] = Base("shape") with { Shape = s_shape with { HeadDim = -1 } },
        ["kv heads 0"] = Base("shape") with { Shape = s_shape with { KvHeads = 0 } },
        ["kv heads -2"] = Base("shape") with { Shape = s_shape with { KvHeads = -2 } },
        ["value dim 0"] = Base("shape") with { Shape = s_shape with { ValueDim = 0 } },
        ["value dim -6"] = Base("shape") with { Shape = s_shape with { ValueDim = -6 } },
        ["heads not a multiple of kv heads"] = Base("shape") with { Shape = s_shape with { KvHeads = 3 } },
        ["kv heads more than heads"] = Base("shape") with { Shape = s_shape with { KvHeads = 8 } },
        ["query size overflows"] = Base("shape") with { Shape = new AttentionShape(1 << 16, 1 << 16, 5, 1, 1) },
        ["key size overflows"] = Base("shape") with { Shape = new AttentionShape(1 << 8, 3, 1 << 24, 1, 1) },
        ["value size overflows"] = Base("shape") with { Shape = new AttentionShape(2, 3, 5, 1, 1) { ValueDim = int.MaxValue } },
        ["output size overflows"] = Base("shape") with { Shape = new AttentionShape(1, 1 << 20, 0, 1 << 6, 1) { ValueDim = 1 << 6 } },
        ["row width overflows with no batch"] = Base("shape") with { Shape = new AttentionShape(0, 3, 5, 1 << 16, 1 << 16) },
        ["product overflows 64 bits in int arithmetic"] = Base("shape") with { Shape = new AttentionShape(int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue, int.MaxValue) { KvHeads = 1, ValueDim = int.MaxValue } },
        ["query shorter"] = Base("query") with { Query = s_query with { Length = QueryLength - 1 } },
        ["query longer"] = Base("query") with { Query = s_query with { Length = QueryLength + 1 } },
        ["key shorter"] = Base("key") with { Key = s_key with { Length = KeyLength - 1 } },
        ["key longer"] = Base("key") with { Key = s_key with { Length = KeyLength + 1 } },
        ["key sized for all heads, not kv heads"] = Base("key") with { Key = s_key with { Length = KeyLength * 2 } },
        ["value shorter"] = Base("value") with { Value = s_value with { Length = ValueLength - 1 } },
        ["value longer"] = Base("value") with { Value = s_value with { Length = ValueLength + 1 } },
        ["value sized with head dim"] = Base("value") with { Value = s_value with { Length = ValueLength / 6 * 4 } },
        ["output shorter"] = Base("output") with { Output = s_output with { Length = OutputLength - 1 } },
        ["output longer"] = Base("output") with { Output = s_output with { Length = OutputLength + 1 } },
        ["output empty"] = Base("output") with { Output = s_output with { Length = 0 } },
        ["scale NaN"] = Base("options") with { Options = new() { Scale = float.NaN } },
        ["scale +inf"] = Base("options") with { Options = new() { Scale = float.PositiveInfinity } },
        ["scale 0"] = Base("options") with { Options = new() { Scale = 0f } },
        ["scale -2"] = Base("options") with { Options = new() { Scale = -2f } },
        ["normalization undefined"] = Base("options") with { Options = new() { Normalization = (AttentionNormalization)7 } },
        ["kernel undefined"] = Base("options") with { Options = new() { Kernel = (AttentionKernel)(-3) } },
        ["parallelism -2"] = Base("options") with { Options = new() { MaxDegreeOfParallelism = -2 } },
        ["output overlaps query"] = Base("output") with { Output = s_output with { Buffer = 0, Offset = QueryLength - 1 } },
        ["output overlaps key"] = Base("output") with { Output = s_output with { Buffer = 1, Offset = 0 } },
        ["output overlaps value"] = Base("output") with { Output = s_output with { Buffer = 2, Offset = 100 } },
    };

    public static TheoryData<string> Cases => new(s_cases.Keys);

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadInput_ThrowsNamingTheParameter_BeforeWriting(string name)
    {
        var @case = s_cases[name];
        var exceptions = new List<ArgumentException>();
        foreach (bool reference in new[] { false, true })
        {
            float[][] buffers = Buffers(@case);
            string context = $"{(reference ? "NaiveAttention" : "Attention")}.ComputeMultiHead, {name} ({@case.Shape})";
            exceptions.Add(ContractAssert.Throws(() => Invoke(@case, buffers, reference), @case.Parameter, context));
            ContractAssert.Untouched(buffers, Sentinel, context);
        }

        Assert.Equal(exceptions[0].GetType(), exceptions[1].GetType());
        Assert.Equal(exceptions[0].Message, exceptions[1].Message);
    }

    /// <summary>Valid edge shapes (no batch, no queries, no keys, MQA with one kv head) must not throw; with no keys every output is 0.</summary>
    [Theory]
    [InlineData(0, 3, 5, 4, 2)]
    [InlineData(2, 0, 5, 4, 2)]
    [InlineData(2, 3, 0, 4, 2)]
    [InlineData(2, 3, 5, 4, 1)]
    [InlineData(1, 1, 1, 1, 1)]
    public void ValidEdgeShapes_DoNotThrow(int batch, int queryLength, int keyLength, int heads, int kvHeads)
    {
        var shape = new AttentionShape(batch, queryLength, keyLength, heads, 3) { KvHeads = kvHeads, ValueDim = 2 };
        foreach (bool reference in new[] { false, true })
        {
            float[] q = Enumerable.Repeat(0.5f, batch * queryLength * heads * 3).ToArray();
            float[] k = Enumerable.Repeat(0.5f, batch * keyLength * kvHeads * 3).ToArray();
            float[] v = Enumerable.Repeat(1f, batch * keyLength * kvHeads * 2).ToArray();
            float[] o = Enumerable.Repeat(Sentinel, batch * queryLength * heads * 2).ToArray();
            if (reference)
            {
                NaiveAttention.ComputeMultiHead(q, k, v, o, shape);
            }
            else
            {
                Attention.ComputeMultiHead(q, k, v, o, shape);
            }

            float expected = keyLength == 0 ? 0f : 1f;
            Assert.All(o, x => Assert.True(Math.Abs(x - expected) <= 1e-6f, $"{shape}: output {x}, expected {expected}."));
        }
    }

    private static float[][] Buffers(BadCase @case)
    {
        var specs = new[] { @case.Query, @case.Key, @case.Value, @case.Output };
        var buffers = new float[4][];
        for (int index = 0; index < 4; index++)
        {
            int length = specs.Where(s => s.Buffer == index).Select(s => s.Offset + s.Length).DefaultIfEmpty(0).Max();
            buffers[index] = Enumerable.Repeat(Sentinel, length).ToArray();
        }

        return buffers;
    }

    private static Span<float> Slice(float[][] buffers, SpanSpec spec) => buffers[spec.Buffer].AsSpan(spec.Offset, spec.Length);

    private static void Invoke(BadCase @case, float[][] buffers, bool reference)
    {
        Span<float> q = Slice(buffers, @case.Query), k = Slice(buffers, @case.Key), v = Slice(buffers, @case.Value), o = Slice(buffers, @case.Output);
        if (reference)
        {
            NaiveAttention.ComputeMultiHead(q, k, v, o, @case.Shape, @case.Options);
        }
        else
        {
            Attention.ComputeMultiHead(q, k, v, o, @case.Shape, @case.Options);
        }
    }
}
