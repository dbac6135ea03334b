using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// Hostile calls to <see cref="AttentionPrimitives"/>: length mismatches, <c>weights.Length · destination.Length</c> past
/// <see cref="int.MaxValue"/>, partial overlap (in-place softmax and sum normalisation, the very same span, are valid);
/// the destination must be untouched. Then empty and one-element spans.
/// </summary>
public class PrimitivesAdversarialTests
{
    internal static BadCallTable Table { get; } = Build();

    public static TheoryData<string> Names => Table.Names();

    [Theory]
    [MemberData(nameof(Names))]
    public void BadCall_IsRejectedBeforeAnythingIsWritten(string name) => Table.Run(name);

    private static BadCallTable Build()
    {
        var table = new BadCallTable();
        foreach (string target in new[] { Api.Softmax, Api.SumNormalize })
        {
            string method = target == Api.Softmax ? "Softmax" : "SumNormalize";
            void Run(ReadOnlySpan<float> source, Span<float> destination)
            {
                if (target == Api.Softmax) AttentionPrimitives.Softmax(source, destination);
                else AttentionPrimitives.SumNormalize(source, destination);
            }

            table.Add($"{method}: destination one short", () =>
            {
                float[] s = BadCall.Sentinels(8), d = BadCall.Sentinels(7);
                return new BadCall { Target = target, Parameter = "destination", Quotes = ["8", "7"], Watched = [s, d], Call = () => Run(s, d) };
            });
            table.Add($"{method}: destination empty", () =>
            {
                float[] s = BadCall.Sentinels(3);
                return new BadCall { Target = target, Parameter = "destination", Quotes = ["3", "0"], Watched = [s], Call = () => Run(s, []) };
            });
            table.Add($"{method}: destination one element ahead of the source", () =>
            {
                float[] buffer = BadCall.Sentinels(9);
                return new BadCall { Target = target, Parameter = "destination", Watched = [buffer], Call = () => Run(buffer.AsSpan(0, 8), buffer.AsSpan(1, 8)) };
            });
            table.Add($"{method}: destination one element behind the source", () =>
            {
                float[] buffer = BadCall.Sentinels(9);
                return new BadCall { Target = target, Parameter = "destination", Watched = [buffer], Call = () => Run(buffer.AsSpan(1, 8), buffer.AsSpan(0, 8)) };
            });
        }

        table.Add("Dot: y one short", () => new BadCall { Target = Api.Dot, Parameter = "y", Quotes = ["5", "4"], Call = () => AttentionPrimitives.Dot(new float[5], new float[4]) });
        table.Add("Dot: y empty", () => new BadCall { Target = Api.Dot, Parameter = "y", Quotes = ["1", "0"], Call = () => AttentionPrimitives.Dot(new float[1], []) });

        void Weighted(string name, string parameter, int weights, int values, int destination, int valuesAlias = -1, bool weightsAlias = false, string[]? quotes = null) =>
            table.Add($"WeightedSum: {name}", () =>
            {
                float[] w = BadCall.Sentinels(weights + (weightsAlias ? destination : 0)), v = BadCall.Sentinels(values + (valuesAlias >= 0 ? destination : 0)), d = BadCall.Sentinels(destination);
                return new BadCall
                {
                    Target = Api.WeightedSum, Parameter = parameter, Quotes = quotes ?? [], Watched = [w, v, d],
                    Call = () =>
                    {
                        Span<float> output = valuesAlias >= 0 ? v.AsSpan(valuesAlias, destination) : weightsAlias ? w.AsSpan(weights - 1, destination) : d;
                        AttentionPrimitives.WeightedSum(w.AsSpan(0, weights), v.AsSpan(0, values), output);
                    },
                };
            });

        Weighted("values one short", "values", 3, 11, 4, quotes: ["12", "11"]);
        Weighted("values for a wider destination", "values", 3, 15, 4, quotes: ["12", "15"]);
        Weighted("weights·destination = 2^32 against 1 value", "values", 1 << 16, 1, 1 << 16, quotes: ["4294967296", "1"]);
        Weighted("destination overlaps the values' last row", "destination", 3, 12, 4, valuesAlias: 8);
        Weighted("destination is the first value row", "destination", 3, 12, 4, valuesAlias: 0);
        Weighted("destination overlaps the weights", "destination", 3, 12, 4, weightsAlias: true);
        return table;
    }

    [Fact]
    public void EmptySpans_AreValid()
    {
        AttentionPrimitives.Softmax([], []);
        AttentionPrimitives.SumNormalize([], []);
        Assert.Equal(0f, AttentionPrimitives.Dot([], []));
        AttentionPrimitives.WeightedSum([], [], []);
        AttentionPrimitives.WeightedSum(new float[3], [], []);
        float[] d = BadCall.Sentinels(4);
        AttentionPrimitives.WeightedSum([], [], d);
        Assert.All(d, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void OneElement_AndInPlace_AreValid()
    {
        float[] x = [123f];
        AttentionPrimitives.Softmax(x, x);
        Assert.Equal(1f, x[0]);
        float[] y = [-0f];
        AttentionPrimitives.SumNormalize(y, y);
        Assert.Equal(0f, y[0]);
        Assert.Equal(6f, AttentionPrimitives.Dot([2f], [3f]));
        float[] d = new float[2];
        AttentionPrimitives.WeightedSum([0.5f], [4f, -2f], d);
        Assert.Equal([2f, -1f], d);
    }
}
