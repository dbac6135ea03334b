using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="PositionalEncoding"/> and <see cref="RotaryEmbedding"/>: negative and overflowing sizes,
/// a one-element buffer under a shape that claims 2²⁶, non-finite or too small bases, odd head widths, undefined layouts;
/// the buffer (written in place) must be untouched. Then the valid edges: empty tables of huge width, the last position.
/// </summary>
public class PositionalAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        foreach (string target in new[] { Api.WriteSinusoidal, Api.AddSinusoidal })
        {
            string buffer = target == Api.WriteSinusoidal ? "destination" : "embeddings";
            string method = target == Api.WriteSinusoidal ? "WriteSinusoidal" : "AddSinusoidal";
            void Add(string name, string parameter, int length, int sequenceLength, int modelDim, int startPosition = 0, float baseValue = 10000f, string[]? quotes = null) =>
                table.Add($"{method}: {name}", () =>
                {
                    float[] x = BadCall.Sentinels(length);
                    return new BadCall
                    {
                        Target = target, Parameter = parameter, Quotes = quotes ?? [], Watched = [x],
                        Call = () =>
                        {
                            if (target == Api.WriteSinusoidal) PositionalEncoding.WriteSinusoidal(x, sequenceLength, modelDim, startPosition, baseValue);
                            else PositionalEncoding.AddSinusoidal(x, sequenceLength, modelDim, startPosition, baseValue);
                        },
                    };
                });

            Add("sequenceLength -1", "sequenceLength", 8, -1, 8, quotes: ["-1"]);
            Add("modelDim int.MinValue", "modelDim", 8, 1, int.MinValue, quotes: ["-2147483648"]);
            Add("startPosition -1", "startPosition", 8, 1, 8, startPosition: -1, quotes: ["-1"]);
            Add("base NaN", "baseValue", 8, 1, 8, baseValue: float.NaN, quotes: ["NaN"]);
            Add("base +inf", "baseValue", 8, 1, 8, baseValue: float.PositiveInfinity);
            Add("base 1", "baseValue", 8, 1, 8, baseValue: 1f, quotes: ["1"]);
            Add("base 0", "baseValue", 8, 1, 8, baseValue: 0f);
            Add("base -10000", "baseValue", 8, 1, 8, baseValue: -10000f, quotes: ["-10000"]);
            Add("buffer one short", buffer, 7, 1, 8, quotes: ["8", "7"]);
            Add("buffer of 1 where 2^26 is claimed", buffer, 1, 1 << 16, 1 << 10, quotes: ["67108864", "1"]);
            Add("sequenceLength·modelDim = 2^32", buffer, 1, 1 << 16, 1 << 16, quotes: ["2147483647", "4294967296"]);
        }

        void Rotary(string name, string parameter, int length, int sequenceLength, int heads, int headDim, int startPosition = 0,
                    RotaryLayout layout = RotaryLayout.HalfSplit, float theta = 10000f, string[]? quotes = null) =>
            table.Add($"RotaryEmbedding.Apply: {name}", () =>
            {
                float[] x = BadCall.Sentinels(length);
                return new BadCall
                {
                    Target = Api.RotaryApply, Parameter = parameter, Quotes = quotes ?? [], Watched = [x],
                    Call = () => RotaryEmbedding.Apply(x, sequenceLength, heads, headDim, startPosition, layout, theta),
                };
            });

        Rotary("sequenceLength -1", "sequenceLength", 8, -1, 1, 8, quotes: ["-1"]);
        Rotary("heads -1", "heads", 8, 1, -1, 8, quotes: ["-1"]);
        Rotary("headDim -2", "headDim", 8, 1, 1, -2, quotes: ["-2"]);
        Rotary("headDim odd", "headDim", 7, 1, 1, 7, quotes: ["7"]);
        Rotary("headDim int.MaxValue (odd)", "headDim", 7, 1, 1, int.MaxValue, quotes: ["2147483647"]);
        Rotary("startPosition int.MinValue", "startPosition", 8, 1, 1, 8, startPosition: int.MinValue, quotes: ["-2147483648"]);
        Rotary("layout 2", "layout", 8, 1, 1, 8, layout: (RotaryLayout)2, quotes: ["2"]);
        Rotary("layout -1", "layout", 8, 1, 1, 8, layout: (RotaryLayout)(-1), quotes: ["-1"]);
        Rotary("theta NaN", "theta", 8, 1, 1, 8, theta: float.NaN, quotes: ["NaN"]);
        Rotary("theta 1", "theta", 8, 1, 1, 8, theta: 1f);
        Rotary("theta -inf", "theta", 8, 1, 1, 8, theta: float.NegativeInfinity);
        Rotary("x one long", "x", 9, 1, 1, 8, quotes: ["8", "9"]);
        Rotary("x of 1 where 2^26 is claimed", "x", 1, 1 << 10, 1 << 8, 1 << 8, quotes: ["67108864", "1"]);
        Rotary("sequenceLength·heads·headDim = 2^33, each factor 2^11", "x", 1, 1 << 11, 1 << 11, 1 << 11, quotes: ["2147483647", "8589934592"]);
        return table;
    }

    [Fact]
    public void EmptyTables_OfHugeWidthOrLength_ReturnAtOnce()
    {
        // No row (or no column): nothing to write, so no frequency of the 2^31 − 1 columns may be computed.
        PositionalEncoding.WriteSinusoidal([], 0, int.MaxValue);
        PositionalEncoding.AddSinusoidal([], 0, int.MaxValue);
        PositionalEncoding.WriteSinusoidal([], int.MaxValue, 0);
        RotaryEmbedding.Apply([], 0, int.MaxValue, 1 << 30, 0, RotaryLayout.Interleaved);
        RotaryEmbedding.Apply([], int.MaxValue, 0, 8, 0, RotaryLayout.HalfSplit);
    }

    [Fact]
    public void TheLastPosition_IsFinite()
    {
        float[] table = new float[5];
        PositionalEncoding.WriteSinusoidal(table, 1, 5, startPosition: int.MaxValue);
        Assert.All(table, x => Assert.InRange(x, -1f, 1f));
        float[] x = [1f, 0f, 0f, 1f];
        RotaryEmbedding.Apply(x, 1, 1, 4, int.MaxValue, RotaryLayout.Interleaved);
        Assert.Equal(1.0, Math.Sqrt(x[0] * x[0] + x[1] * x[1]), 5);
        Assert.Equal(1.0, Math.Sqrt(x[2] * x[2] + x[3] * x[3]), 5);
    }

    [Fact]
    public void OneRow_OddWidth_MatchesTheFormula()
    {
        float[] table = BadCall.Sentinels(3);
        PositionalEncoding.WriteSinusoidal(table, 1, 3, startPosition: 2);
        Assert.Equal((float)Math.Sin(2.0), table[0]);
        Assert.Equal((float)Math.Cos(2.0), table[1]);
        Assert.Equal((float)Math.Sin(2.0 * Math.Pow(10000, -2.0 / 3)), table[2]);
    }
}
