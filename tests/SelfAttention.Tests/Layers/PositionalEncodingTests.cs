using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SelfAttention.Tests.Helpers;
using SelfAttention.Tests.Validation;
using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary><see cref="PositionalEncoding"/> against the paper's formula evaluated independently in double.</summary>
public class PositionalEncodingTests
{
    /// <summary>
    /// The library rounds a double sine or cosine to float once; the reference computes the angle as <c>pos / base^(2i/d)</c>
    /// (a division, where the library multiplies by the inverse), so the two doubles differ by a few ulps of the angle
    /// (≤ 1e-10 absolute even at position 10⁶). Values lie in [−1, 1], where half a float ulp is at most 2⁻²⁵ ≈ 3e-8:
    /// the float results agree within one float ulp, 6e-8, and 1e-7 is allowed.
    /// </summary>
    private const double ValueTolerance = 1e-7;

    public static TheoryData<int, int, int, float> Shapes => new()
    {
        { 0, 8, 0, 10000f },
        { 1, 1, 0, 10000f },
        { 4, 2, 0, 10000f },
        { 5, 7, 3, 10000f },      // odd modelDim: the last column is a sine
        { 17, 16, 0, 10000f },
        { 9, 129, 1000, 10000f }, // odd, and more than one block of 64 pairs
        { 3, 300, 123456, 10000f },
        { 6, 33, 999_999, 500f },
        { 2, 10, int.MaxValue - 1, 10000f },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WriteSinusoidal_MatchesDoubleReference(int sequenceLength, int modelDim, int startPosition, float baseValue)
    {
        var destination = new GuardedBuffer(sequenceLength * modelDim);
        PositionalEncoding.WriteSinusoidal(destination.Span, sequenceLength, modelDim, startPosition, baseValue);
        destination.AssertGuardsIntact($"WriteSinusoidal ({sequenceLength}, {modelDim}, start {startPosition})");

        double[] expected = Reference(sequenceLength, modelDim, startPosition, baseValue);
        float[] actual = destination.ToArray();
        for (int index = 0; index < expected.Length; index++)
        {
            Assert.True(Math.Abs(actual[index] - expected[index]) <= ValueTolerance,
                $"shape ({sequenceLength}, {modelDim}), start {startPosition}, base {baseValue}: element [{index / modelDim}, {index % modelDim}] expected {expected[index]:R}, actual {actual[index]:R}.");
        }
    }

    [Fact]
    public void WriteSinusoidal_KnownValues()
    {
        var table = new float[3 * 5];
        PositionalEncoding.WriteSinusoidal(table, 3, 5);
        // Position 0: sin 0 = 0 in even columns, cos 0 = 1 in odd ones; the odd width's last column is a sine.
        Assert.Equal([0f, 1f, 0f, 1f, 0f], table[..5]);
        // Position 1, pair 0: angle 1 radian; pair 1: 1 / 10000^(2/5).
        Assert.Equal((float)Math.Sin(1), table[5]);
        Assert.Equal((float)Math.Cos(1), table[6]);
        Assert.Equal((float)Math.Sin(1 / Math.Pow(10000, 0.4)), table[7], 7);
        Assert.Equal((float)Math.Sin(2 / Math.Pow(10000, 0.8)), table[14], 7);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AddSinusoidal_EqualsEmbeddingsPlusTable(int sequenceLength, int modelDim, int startPosition, float baseValue)
    {
        float[] embeddings = TestInputs.Uniform(new Random(sequenceLength * 31 + modelDim), sequenceLength * modelDim, 2f);
        var table = new float[embeddings.Length];
        PositionalEncoding.WriteSinusoidal(table, sequenceLength, modelDim, startPosition, baseValue);

        var actual = new GuardedBuffer(embeddings.Length);
        embeddings.CopyTo(actual.Span);
        PositionalEncoding.AddSinusoidal(actual.Span, sequenceLength, modelDim, startPosition, baseValue);
        actual.AssertGuardsIntact("AddSinusoidal");

        for (int index = 0; index < embeddings.Length; index++)
        {
            Assert.Equal(embeddings[index] + table[index], actual.Span[index]);
        }
    }

    [Fact]
    public void StartPosition_EqualsLaterRowsOfALongerTable()
    {
        foreach (int modelDim in new[] { 1, 6, 7, 64, 131 })
        {
            const int longLength = 40;
            var full = new float[longLength * modelDim];
            PositionalEncoding.WriteSinusoidal(full, longLength, modelDim);
            foreach (int start in new[] { 0, 1, 13, 39 })
            {
                int length = longLength - start;
                var tail = new float[length * modelDim];
                PositionalEncoding.WriteSinusoidal(tail, length, modelDim, start);
                Assert.True(full.AsSpan(start * modelDim).SequenceEqual(tail), $"modelDim {modelDim}, start {start}: rows differ from the longer table.");
            }
        }
    }

    [Property(MaxTest = 200)]
    public Property Property_AddEqualsEmbeddingsPlusWrite_AndPairsAreUnitVectors()
    {
        var arbitrary = (from sequenceLength in Gen.Choose(0, 12)
                         from modelDim in Gen.Choose(0, 70)
                         from start in Gen.Choose(0, 1_000_000)
                         from seed in Gen.Choose(0, int.MaxValue)
                         select (SequenceLength: sequenceLength, ModelDim: modelDim, Start: start, Seed: seed)).ToArbitrary();
        return Prop.ForAll(arbitrary, input =>
        {
            var (n, d, start, seed) = input;
            var table = new float[n * d];
            PositionalEncoding.WriteSinusoidal(table, n, d, start);
            float[] embeddings = TestInputs.Uniform(new Random(seed), n * d, 1f);
            float[] sum = (float[])embeddings.Clone();
            PositionalEncoding.AddSinusoidal(sum, n, d, start);
            for (int index = 0; index < table.Length; index++)
            {
                Assert.Equal(embeddings[index] + table[index], sum[index]);
            }

            for (int row = 0; row < n; row++)
            {
                for (int c = 0; c + 1 < d; c += 2)
                {
                    double s = table[row * d + c], co = table[row * d + c + 1];
                    Assert.True(Math.Abs(s * s + co * co - 1) <= 3e-7, $"{input}: row {row}, pair {c / 2}: sin² + cos² = {s * s + co * co:R}.");
                }
            }
        });
    }

    public static TheoryData<string, int, int, int, int, float> BadInputs => new()
    {
        // parameter, buffer length, sequenceLength, modelDim, startPosition, base
        { "sequenceLength", 0, -1, 4, 0, 10000f },
        { "modelDim", 0, 2, -3, 0, 10000f },
        { "startPosition", 8, 2, 4, -1, 10000f },
        { "baseValue", 8, 2, 4, 0, 1f },
        { "baseValue", 8, 2, 4, 0, 0.5f },
        { "baseValue", 8, 2, 4, 0, -10000f },
        { "baseValue", 8, 2, 4, 0, float.NaN },
        { "baseValue", 8, 2, 4, 0, float.PositiveInfinity },
        { "buffer", 7, 2, 4, 0, 10000f },
        { "buffer", 9, 2, 4, 0, 10000f },
        { "buffer", 9, 65536, 65536, 0, 10000f }, // 2³² elements: overflow
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_ThrowsBeforeWriting(string parameter, int length, int sequenceLength, int modelDim, int startPosition, float baseValue)
    {
        const float sentinel = -1234.5f;
        var buffer = new float[length];
        Array.Fill(buffer, sentinel);
        string context = $"({parameter}: length {length}, n {sequenceLength}, d {modelDim}, start {startPosition}, base {baseValue})";

        ContractAssert.Throws(() => PositionalEncoding.WriteSinusoidal(buffer, sequenceLength, modelDim, startPosition, baseValue),
            parameter == "buffer" ? "destination" : parameter, "WriteSinusoidal " + context);
        ContractAssert.Throws(() => PositionalEncoding.AddSinusoidal(buffer, sequenceLength, modelDim, startPosition, baseValue),
            parameter == "buffer" ? "embeddings" : parameter, "AddSinusoidal " + context);
        ContractAssert.Untouched([buffer], sentinel, context);
    }

    /// <summary>The paper's formula, written out directly: <c>PE[pos, 2i] = sin(pos / base^(2i/d))</c>, <c>PE[pos, 2i+1] = cos(…)</c>.</summary>
    private static double[] Reference(int sequenceLength, int modelDim, int startPosition, float baseValue)
    {
        var table = new double[sequenceLength * modelDim];
        for (int row = 0; row < sequenceLength; row++)
        {
            long pos = (long)startPosition + row;
            for (int c = 0; c < modelDim; c++)
            {
                int twoI = c - c % 2;
                double angle = pos / Math.Pow(baseValue, twoI / (double)modelDim);
                table[row * modelDim + c] = c % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
            }
        }

        return table;
    }
}
