using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="DeterministicRandom"/>: ranges that are empty, reversed, non-finite or wider than float
/// can hold, and Xavier fans that are not positive or do not match the buffer; nothing is written and the generator does
/// not advance. Then the edges: every seed, and a range one ulp wide whose upper bound must stay exclusive.
/// </summary>
public class RandomAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    // The generator must not have advanced: its next value is the next value of a fresh one.
    private static Action Unadvanced(DeterministicRandom random) => () => Assert.Equal(new DeterministicRandom(9).NextUInt64(), random.NextUInt64());

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        foreach (var (name, parameter, min, max) in new (string, string, float, float)[]
        {
            ("max = min", "max", 1f, 1f),
            ("max < min", "max", 1f, 0f),
            ("min NaN", "min", float.NaN, 1f),
            ("max NaN", "max", 0f, float.NaN),
            ("min -inf", "min", float.NegativeInfinity, 0f),
            ("max +inf", "max", 0f, float.PositiveInfinity),
            ("max − min overflows float", "max", -3e38f, 3e38f),
        })
        {
            table.Add($"NextSingle(min, max): {name}", () =>
            {
                var random = new DeterministicRandom(9);
                return new BadCall { Target = Api.RandomNextSingleRange, Parameter = parameter, Call = () => random.NextSingle(min, max), AssertUnchanged = Unadvanced(random) };
            });
            table.Add($"Fill: {name}", () =>
            {
                var random = new DeterministicRandom(9);
                float[] d = BadCall.Sentinels(4);
                return new BadCall { Target = Api.RandomFill, Parameter = parameter, Watched = [d], Call = () => random.Fill(d, min, max), AssertUnchanged = Unadvanced(random) };
            });
        }

        foreach (var (name, parameter, length, fanIn, fanOut, quotes) in new (string, string, int, int, int, string[])[]
        {
            ("fanIn 0", "fanIn", 4, 0, 4, ["1", "0"]),
            ("fanOut -1", "fanOut", 4, 4, -1, ["-1"]),
            ("fanIn int.MinValue", "fanIn", 4, int.MinValue, 4, ["-2147483648"]),
            ("weights one short", "weights", 11, 3, 4, ["12", "11"]),
            ("weights of 1 for int.MaxValue²", "weights", 1, int.MaxValue, int.MaxValue, ["4611686014132420609", "1"]),
        })
        {
            table.Add($"FillXavierUniform: {name}", () =>
            {
                var random = new DeterministicRandom(9);
                float[] w = BadCall.Sentinels(length);
                return new BadCall { Target = Api.RandomXavier, Parameter = parameter, Quotes = quotes, Watched = [w], Call = () => random.FillXavierUniform(w, fanIn, fanOut), AssertUnchanged = Unadvanced(random) };
            });
        }

        return table;
    }

    [Fact]
    public void EverySeed_IsValid()
    {
        foreach (ulong seed in new[] { 0UL, 1UL, ulong.MaxValue, 0x8000000000000000UL })
        {
            var a = new DeterministicRandom(seed);
            var b = new DeterministicRandom(seed);
            Assert.Equal(a.NextUInt64(), b.NextUInt64());
            Assert.NotEqual(0UL, a.NextUInt64() | a.NextUInt64());
        }
    }

    [Fact]
    public void NextSingle_StaysInTheUnitInterval()
    {
        var random = new DeterministicRandom(3);
        for (int i = 0; i < 10_000; i++)
        {
            Assert.InRange(random.NextSingle(), 0f, float.BitDecrement(1f));
        }
    }

    [Fact]
    public void ARangeOneUlpWide_NeverReturnsItsExclusiveBound()
    {
        // min + (max − min)·u with max = next float after 1 rounds up to max for every u > 1/2: half of all draws.
        var random = new DeterministicRandom(11);
        float max = float.BitIncrement(1f);
        float[] values = new float[1000];
        random.Fill(values, 1f, max);
        Assert.All(values, x => Assert.Equal(1f, x));
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal(1f, random.NextSingle(1f, max));
        }
    }
}
