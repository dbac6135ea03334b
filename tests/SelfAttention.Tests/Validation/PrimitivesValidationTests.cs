using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Validation;

/// <summary>Bad input to <see cref="AttentionPrimitives"/>: lengths that do not match and outputs that overlap inputs.</summary>
public class PrimitivesValidationTests
{
    private const float Sentinel = GuardedMatrix.Sentinel;

    public enum Normaliser { Softmax, SumNormalize }

    public static TheoryData<Normaliser> Normalisers => new(Enum.GetValues<Normaliser>());

    [Theory]
    [MemberData(nameof(Normalisers))]
    public void Normaliser_DestinationLengthMismatch(Normaliser normaliser)
    {
        foreach (int destinationLength in new[] { 0, 6, 8, 100 })
        {
            float[] source = TestInputs.Uniform(new Random(1), 7, 1f);
            float[] destination = Enumerable.Repeat(Sentinel, destinationLength).ToArray();
            string context = $"{normaliser}: source 7, destination {destinationLength}";
            ContractAssert.Throws(() => Normalise(normaliser, source, destination), "destination", context);
            ContractAssert.Untouched([destination], Sentinel, context);
        }
    }

    /// <summary>The same span in place is allowed; a destination shifted against the source is not.</summary>
    [Theory]
    [MemberData(nameof(Normalisers))]
    public void Normaliser_PartialOverlap(Normaliser normaliser)
    {
        foreach (int shift in new[] { -3, -1, 1, 5 })
        {
            float[] buffer = Enumerable.Repeat(Sentinel, 20).ToArray();
            string context = $"{normaliser}: destination shifted by {shift} against the source";
            ContractAssert.Throws(() => Normalise(normaliser, buffer.AsSpan(8, 6), buffer.AsSpan(8 + shift, 6)), "destination", context);
            ContractAssert.Untouched([buffer], Sentinel, context);
        }
    }

    [Fact]
    public void Dot_LengthMismatch()
    {
        foreach (var (x, y) in new[] { (5, 4), (5, 6), (0, 1), (1, 0), (64, 63) })
        {
            float[] a = new float[x], b = new float[y];
            ContractAssert.Throws(() => AttentionPrimitives.Dot(a, b), "y", $"Dot of {x} and {y} elements");
        }
    }

    [Fact]
    public void WeightedSum_ValuesLengthMismatch()
    {
        foreach (var (count, valueLength, valueDim) in new[] { (3, 11, 4), (3, 13, 4), (0, 1, 4), (3, 0, 4), (3, 12, 5), (3, 3, 0) })
        {
            float[] weights = new float[count], values = new float[valueLength];
            float[] destination = Enumerable.Repeat(Sentinel, valueDim).ToArray();
            string context = $"WeightedSum: {count} weights, {valueLength} values, destination {valueDim}";
            ContractAssert.Throws(() => AttentionPrimitives.WeightedSum(weights, values, destination), "values", context);
            ContractAssert.Untouched([destination], Sentinel, context);
        }
    }

    [Fact]
    public void WeightedSum_DestinationOverlapsAnInput()
    {
        float[] buffer = Enumerable.Repeat(Sentinel, 40).ToArray();
        ContractAssert.Throws(() => AttentionPrimitives.WeightedSum(buffer.AsSpan(0, 3), buffer.AsSpan(10, 12), buffer.AsSpan(2, 4)), "destination", "WeightedSum: destination overlaps weights");
        ContractAssert.Throws(() => AttentionPrimitives.WeightedSum(buffer.AsSpan(0, 3), buffer.AsSpan(10, 12), buffer.AsSpan(21, 4)), "destination", "WeightedSum: destination overlaps values");
        ContractAssert.Throws(() => AttentionPrimitives.WeightedSum(buffer.AsSpan(0, 3), buffer.AsSpan(10, 12), buffer.AsSpan(10, 4)), "destination", "WeightedSum: destination is the start of values");
        ContractAssert.Untouched([buffer], Sentinel, "WeightedSum overlaps");
    }

    private static void Normalise(Normaliser normaliser, ReadOnlySpan<float> source, Span<float> destination)
    {
        if (normaliser == Normaliser.Softmax)
        {
            AttentionPrimitives.Softmax(source, destination);
        }
        else
        {
            AttentionPrimitives.SumNormalize(source, destination);
        }
    }
}
