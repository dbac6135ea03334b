using SelfAttention.Transformers.Reference;
using Xunit;

namespace SelfAttention.Tests.Transformers;

/// <summary>The oracle itself: erf and erfc against tabulated values, and the activations' identities in double.</summary>
public class NaiveActivationsTests
{
    // erf and erfc as the C library's erf/erfc give them (CPython's math.erf, math.erfc), correctly rounded to double.
    [Theory]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(1.5, 0.9661051464753108)]
    [InlineData(1.999, 0.9953015566513705)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(3.0, 0.9999779095030014)]
    public void Erf_MatchesTabulatedValues(double x, double expected)
    {
        Assert.Equal(expected, NaiveActivations.Erf(x), 1e-15);
        Assert.Equal(-expected, NaiveActivations.Erf(-x), 1e-15);
    }

    [Theory]
    [InlineData(2.0, 4.677734981047265e-3)]
    [InlineData(3.0, 2.2090496998585438e-5)]
    [InlineData(5.0, 1.5374597944280351e-12)]
    [InlineData(10.0, 2.088487583762545e-45)]
    [InlineData(26.0, 5.663192408856143e-296)]
    public void Erfc_MatchesTabulatedValuesToFifteenDigits(double x, double expected) =>
        Assert.True(Math.Abs(NaiveActivations.Erfc(x) - expected) <= 1e-14 * expected, $"erfc({x}) = {NaiveActivations.Erfc(x):R}, expected {expected:R}");

    [Fact]
    public void SpecialValues()
    {
        Assert.Equal(1.0, NaiveActivations.Erf(double.PositiveInfinity));
        Assert.Equal(-1.0, NaiveActivations.Erf(double.NegativeInfinity));
        Assert.True(double.IsNaN(NaiveActivations.Erf(double.NaN)));
        Assert.Equal(0.0, NaiveActivations.Erf(0.0));
        foreach (Func<double, double> f in new Func<double, double>[] { NaiveActivations.Gelu, NaiveActivations.GeluTanh, NaiveActivations.Silu })
        {
            Assert.Equal(0.0, f(0.0));
            Assert.Equal(double.PositiveInfinity, f(double.PositiveInfinity));
            Assert.Equal(-0.0, f(double.NegativeInfinity));
            Assert.True(double.IsNaN(f(double.NaN)));
        }
    }

    [Theory]
    [InlineData(-3.0)]
    [InlineData(-0.7)]
    [InlineData(0.3)]
    [InlineData(2.5)]
    public void Activations_AgreeWithTheirTextbookForms(double x)
    {
        // Where the textbook form does not cancel, the careful forms must equal it to double rounding.
        Assert.Equal(0.5 * x * (1 + NaiveActivations.Erf(x / Math.Sqrt(2))), NaiveActivations.Gelu(x), 1e-15);
        Assert.Equal(0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), NaiveActivations.GeluTanh(x), 1e-15);
        Assert.Equal(x / (1 + Math.Exp(-x)), NaiveActivations.Silu(x), 1e-15);
    }
}
