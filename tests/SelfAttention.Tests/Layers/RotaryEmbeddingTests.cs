using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SelfAttention.Tests.Helpers;
using SelfAttention.Tests.Validation;
using Xunit;

namespace SelfAttention.Tests.Layers;

/// <summary><see cref="RotaryEmbedding"/> against an explicit rotation matrix, and the properties RoPE exists for.</summary>
public class RotaryEmbeddingTests
{
    private static readonly RotaryLayout[] s_layouts = [RotaryLayout.Interleaved, RotaryLayout.HalfSplit];

    public static TheoryData<int, int, int, int, float> Shapes => new()
    {
        // sequenceLength, heads, headDim, startPosition, theta
        { 0, 2, 8, 0, 10000f },
        { 1, 1, 2, 0, 10000f },
        { 3, 2, 8, 5, 10000f },
        { 5, 3, 6, 0, 10000f },      // three pairs: vector tails
        { 4, 2, 34, 17, 10000f },
        { 2, 1, 130, 1000, 10000f }, // 65 pairs: two blocks of the table
        { 3, 2, 258, 7, 10000f },    // 129 pairs: three blocks, the last of one pair
        { 2, 4, 64, 123456, 10000f },
        { 2, 8, 128, 0, 500000f },   // Llama 3's theta
        { 2, 1, 16, int.MaxValue - 1, 10000f },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BothLayouts_MatchExplicitRotation(int sequenceLength, int heads, int headDim, int startPosition, float theta)
    {
        foreach (var layout in s_layouts)
        {
            AssertMatchesReference(sequenceLength, heads, headDim, startPosition, theta, layout);
        }
    }

    /// <summary>Every even head width up to 258, so every vector width's body and scalar tail meet the reference.</summary>
    [Fact]
    public void EveryHeadDim_MatchesExplicitRotation()
    {
        for (int headDim = 0; headDim <= 258; headDim += 2)
        {
            foreach (var layout in s_layouts)
            {
                AssertMatchesReference(2, 2, headDim, 3, 10000f, layout);
            }
        }
    }

    [Fact]
    public void PairNorms_ArePreserved()
    {
        const int n = 7, heads = 3, headDim = 40, start = 1000;
        foreach (var layout in s_layouts)
        {
            float[] x = TestInputs.Uniform(new Random(5), n * heads * headDim, 3f);
            float[] rotated = (float[])x.Clone();
            RotaryEmbedding.Apply(rotated, n, heads, headDim, start, layout);
            for (int head = 0; head < n * heads; head++)
            {
                for (int i = 0; i < headDim / 2; i++)
                {
                    var (j0, j1) = PairChannels(layout, headDim, i);
                    int o = head * headDim;
                    double before = Square(x[o + j0]) + Square(x[o + j1]);
                    double after = Square(rotated[o + j0]) + Square(rotated[o + j1]);
                    // A rotation in float: each output carries a few roundings of 2⁻²⁴ relative to the pair's norm.
                    Assert.True(Math.Abs(after - before) <= 1e-6 * before + 1e-12, $"{layout}: head row {head}, pair {i}: |·|² {before:R} became {after:R}.");
                }
            }
        }
    }

    [Fact]
    public void PositionZero_IsTheIdentity()
    {
        foreach (var layout in s_layouts)
        {
            float[] x = TestInputs.Uniform(new Random(9), 4 * 96, 2f);
            float[] rotated = (float[])x.Clone();
            RotaryEmbedding.Apply(rotated, 1, 4, 96, 0, layout);
            Assert.Equal(x, rotated);
        }
    }

    /// <summary>
    /// The point of RoPE: ⟨R(m)q, R(n)k⟩ = ⟨q, R(n − m)k⟩ depends on m and n only through m − n. Checked for several
    /// (m, n) with the same difference, up to position 10⁶. Each rotated channel is within a few float roundings of the
    /// exact rotation (the angles are exact to double), so the dot products agree within 1e-5 · Σ_pairs ‖q_pair‖·‖k_pair‖
    /// (a bound on |⟨q, k⟩| itself); a negative control checks that a different difference is outside that tolerance.
    /// </summary>
    [Fact]
    public void DotProduct_DependsOnlyOnRelativePosition()
    {
        const int headDim = 64;
        var rng = new Random(17);
        float[] q = TestInputs.Uniform(rng, headDim, 1f), k = TestInputs.Uniform(rng, headDim, 1f);
        foreach (var layout in s_layouts)
        {
            double scale = 0;
            for (int i = 0; i < headDim / 2; i++)
            {
                var (j0, j1) = PairChannels(layout, headDim, i);
                scale += Math.Sqrt(Square(q[j0]) + Square(q[j1])) * Math.Sqrt(Square(k[j0]) + Square(k[j1]));
            }

            double tolerance = 1e-5 * scale;
            foreach (int difference in new[] { 0, 3, -5, 100 })
            {
                double first = double.NaN;
                foreach (int n in new[] { 5, 10, 517, 4096, 1_000_000 })
                {
                    int m = n + difference;
                    double dot = RotatedDot(q, m, k, n, headDim, layout);
                    if (double.IsNaN(first))
                    {
                        first = dot;
                        continue;
                    }

                    Assert.True(Math.Abs(dot - first) <= tolerance,
                        $"{layout}, m − n = {difference}: ⟨R({m})q, R({n})k⟩ = {dot:R}, but {first:R} at n = 5 (tolerance {tolerance:G3}).");
                }

                double other = RotatedDot(q, 5 + difference + 1, k, 5, headDim, layout);
                Assert.True(Math.Abs(other - first) > 100 * tolerance, $"{layout}: the control with m − n = {difference + 1} should differ ({other:R} vs {first:R}).");
            }
        }
    }

    [Fact]
    public void StartPosition_EqualsRowsInsideALongerSequence()
    {
        const int n = 12, heads = 2, headDim = 36;
        int width = heads * headDim;
        foreach (var layout in s_layouts)
        {
            float[] x = TestInputs.Uniform(new Random(23), n * width, 1f);
            float[] full = (float[])x.Clone();
            RotaryEmbedding.Apply(full, n, heads, headDim, 0, layout);
            foreach (var (start, count) in new[] { (0, 1), (5, 1), (11, 1), (3, 4), (7, 5) })
            {
                float[] part = x.AsSpan(start * width, count * width).ToArray();
                RotaryEmbedding.Apply(part, count, heads, headDim, start, layout);
                Assert.True(full.AsSpan(start * width, count * width).SequenceEqual(part), $"{layout}: rows {start}…{start + count - 1} with startPosition {start} differ from the same rows of the full sequence.");
            }
        }
    }

    /// <summary>
    /// Let P send channel 2i to i and 2i + 1 to i + headDim/2 in every head. Then HalfSplit(P·x) = P·Interleaved(x): the
    /// two layouts are the same rotation on permuted channels. The library computes the same float expressions for
    /// both, so the equality is exact.
    /// </summary>
    [Property(MaxTest = 150)]
    public Property Layouts_AreRelatedByThePairingPermutation()
    {
        var arbitrary = (from sequenceLength in Gen.Choose(0, 5)
                         from heads in Gen.Choose(1, 4)
                         from halfDim in Gen.Choose(0, 70)
                         from start in Gen.Choose(0, 100_000)
                         from seed in Gen.Choose(0, int.MaxValue)
                         select (SequenceLength: sequenceLength, Heads: heads, HeadDim: 2 * halfDim, Start: start, Seed: seed)).ToArbitrary();
        return Prop.ForAll(arbitrary, input =>
        {
            var (n, heads, headDim, start, seed) = input;
            float[] x = TestInputs.Uniform(new Random(seed), n * heads * headDim, 2f);
            float[] interleaved = (float[])x.Clone();
            RotaryEmbedding.Apply(interleaved, n, heads, headDim, start, RotaryLayout.Interleaved);
            float[] halfSplit = PermuteToHalfSplit(x, headDim);
            RotaryEmbedding.Apply(halfSplit, n, heads, headDim, start, RotaryLayout.HalfSplit);
            Assert.Equal(PermuteToHalfSplit(interleaved, headDim), halfSplit);
        });
    }

    public static TheoryData<string, int, int, int, int, int, RotaryLayout, float> BadInputs => new()
    {
        // parameter, x length, sequenceLength, heads, headDim, startPosition, layout, theta
        { "headDim", 6, 2, 1, 3, 0, RotaryLayout.Interleaved, 10000f },
        { "headDim", 10, 2, 1, 5, 0, RotaryLayout.HalfSplit, 10000f },
        { "headDim", 0, 0, 1, 1, 0, RotaryLayout.HalfSplit, 10000f },
        { "sequenceLength", 8, -1, 1, 8, 0, RotaryLayout.HalfSplit, 10000f },
        { "heads", 8, 1, -1, 8, 0, RotaryLayout.HalfSplit, 10000f },
        { "headDim", 8, 1, 1, -2, 0, RotaryLayout.HalfSplit, 10000f },
        { "startPosition", 8, 1, 1, 8, -1, RotaryLayout.HalfSplit, 10000f },
        { "layout", 8, 1, 1, 8, 0, (RotaryLayout)2, 10000f },
        { "theta", 8, 1, 1, 8, 0, RotaryLayout.HalfSplit, 1f },
        { "theta", 8, 1, 1, 8, 0, RotaryLayout.HalfSplit, 0f },
        { "theta", 8, 1, 1, 8, 0, RotaryLayout.HalfSplit, float.NaN },
        { "theta", 8, 1, 1, 8, 0, RotaryLayout.HalfSplit, float.PositiveInfinity },
        { "x", 7, 1, 1, 8, 0, RotaryLayout.Interleaved, 10000f },
        { "x", 17, 2, 1, 8, 0, RotaryLayout.Interleaved, 10000f },
        { "x", 8, 65536, 65536, 2, 0, RotaryLayout.Interleaved, 10000f }, // 2³³ elements: overflow
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInput_ThrowsBeforeWriting(string parameter, int length, int sequenceLength, int heads, int headDim, int startPosition, RotaryLayout layout, float theta)
    {
        const float sentinel = 0.75f;
        var x = new float[length];
        Array.Fill(x, sentinel);
        string context = $"Apply(length {length}, n {sequenceLength}, heads {heads}, headDim {headDim}, start {startPosition}, {layout}, theta {theta})";
        ContractAssert.Throws(() => RotaryEmbedding.Apply(x, sequenceLength, heads, headDim, startPosition, layout, theta), parameter, context);
        ContractAssert.Untouched([x], sentinel, context);
    }

    private static void AssertMatchesReference(int sequenceLength, int heads, int headDim, int startPosition, float theta, RotaryLayout layout)
    {
        float[] x = TestInputs.Uniform(new Random(headDim * 7 + heads), sequenceLength * heads * headDim, 2f);
        var buffer = new GuardedBuffer(x.Length);
        x.CopyTo(buffer.Span);
        RotaryEmbedding.Apply(buffer.Span, sequenceLength, heads, headDim, startPosition, layout, theta);
        string context = $"{layout} (n {sequenceLength}, heads {heads}, headDim {headDim}, start {startPosition}, theta {theta})";
        buffer.AssertGuardsIntact(context);

        double[] expected = Reference(x, sequenceLength, heads, headDim, startPosition, layout, theta);
        float[] actual = buffer.ToArray();
        for (int head = 0; head < sequenceLength * heads; head++)
        {
            for (int i = 0; i < headDim / 2; i++)
            {
                var (j0, j1) = PairChannels(layout, headDim, i);
                int o = head * headDim;
                // cos and sin rounded to float (2⁻²⁵ each), two float products and a sum (three more roundings):
                // |error| ≤ 3·2⁻²⁴·(|a| + |b|) per output; the reference's angle differs from the library's by double ulps.
                double bound = 3 * Tolerance.FloatRoundoff * (Math.Abs(x[o + j0]) + Math.Abs(x[o + j1])) + 1e-9;
                foreach (int j in new[] { j0, j1 })
                {
                    Assert.True(Math.Abs(actual[o + j] - expected[o + j]) <= bound,
                        $"{context}: row {head / heads}, head {head % heads}, channel {j}: expected {expected[o + j]:R}, actual {actual[o + j]:R}, bound {bound:G3}.");
                }
            }
        }
    }

    /// <summary>
    /// RoPE from its definition, in double: for each row (position <c>start + row</c>), head and pair <c>i</c>, build the
    /// 2×2 rotation by <c>pos / θ^(2i/headDim)</c> and multiply it with the pair's channels, which depend on the layout.
    /// </summary>
    private static double[] Reference(float[] x, int sequenceLength, int heads, int headDim, int startPosition, RotaryLayout layout, float theta)
    {
        var result = new double[x.Length];
        for (int row = 0; row < sequenceLength; row++)
        {
            long pos = (long)startPosition + row;
            for (int h = 0; h < heads; h++)
            {
                int o = (row * heads + h) * headDim;
                for (int i = 0; i < headDim / 2; i++)
                {
                    double angle = pos / Math.Pow(theta, 2.0 * i / headDim);
                    double[,] rotation = { { Math.Cos(angle), -Math.Sin(angle) }, { Math.Sin(angle), Math.Cos(angle) } };
                    var (j0, j1) = PairChannels(layout, headDim, i);
                    double a = x[o + j0], b = x[o + j1];
                    result[o + j0] = rotation[0, 0] * a + rotation[0, 1] * b;
                    result[o + j1] = rotation[1, 0] * a + rotation[1, 1] * b;
                }
            }
        }

        return result;
    }

    private static (int First, int Second) PairChannels(RotaryLayout layout, int headDim, int i) =>
        layout == RotaryLayout.Interleaved ? (2 * i, 2 * i + 1) : (i, i + headDim / 2);

    /// <summary>Channel 2i → i, 2i + 1 → i + headDim/2, in every head.</summary>
    private static float[] PermuteToHalfSplit(float[] x, int headDim)
    {
        var result = new float[x.Length];
        if (headDim == 0)
        {
            return result;
        }

        for (int o = 0; o < x.Length; o += headDim)
        {
            for (int i = 0; i < headDim / 2; i++)
            {
                result[o + i] = x[o + 2 * i];
                result[o + i + headDim / 2] = x[o + 2 * i + 1];
            }
        }

        return result;
    }

    private static double RotatedDot(float[] q, int m, float[] k, int n, int headDim, RotaryLayout layout)
    {
        float[] rq = (float[])q.Clone(), rk = (float[])k.Clone();
        RotaryEmbedding.Apply(rq, 1, 1, headDim, m, layout);
        RotaryEmbedding.Apply(rk, 1, 1, headDim, n, layout);
        double dot = 0;
        for (int c = 0; c < headDim; c++)
        {
            dot += (double)rq[c] * rk[c];
        }

        return dot;
    }

    private static double Square(double value) => value * value;
}
