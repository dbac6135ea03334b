using System.Globalization;
using System.Text;
using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>Compares a result with the reference: non-finite values first, then every element, then the error norm of the tensor.</summary>
public static class Oracle
{
    private const int MaxReported = 10;

    /// <summary>
    /// Asserts that <paramref name="actual"/> matches <paramref name="expected"/> (both row-major <c>[rows, columns]</c>).
    /// A non-finite value must be matched exactly (NaN by NaN, ∞ by the same ∞) and is checked first; finite values are
    /// compared with <paramref name="tolerance"/> plus the optional per-row <paramref name="rowSlack"/>. Every message
    /// starts with <paramref name="context"/>, which names the shape.
    /// </summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, int rows, int columns,
                                   Tolerance tolerance, string context, ReadOnlySpan<double> rowSlack = default)
    {
        Assert.True(expected.Length == rows * columns, $"{context}: expected has {expected.Length} elements, not {rows}×{columns}.");
        Assert.True(actual.Length == rows * columns, $"{context}: actual has {actual.Length} elements, not {rows}×{columns}.");

        // Pass 1: NaN and infinity, before any arithmetic on them can hide them.
        var faults = new StringBuilder();
        int nonFinite = 0;
        for (int index = 0; index < expected.Length; index++)
        {
            float e = expected[index], a = actual[index];
            bool match = float.IsFinite(e) ? float.IsFinite(a) : float.IsNaN(e) ? float.IsNaN(a) : a.Equals(e);
            if (!match && nonFinite++ < MaxReported)
            {
                faults.Append(CultureInfo.InvariantCulture, $"\n  [{index / columns}, {index % columns}] expected {e:R}, actual {a:R}");
            }
        }

        if (nonFinite > 0)
        {
            Assert.Fail($"{context}: {nonFinite} of {expected.Length} elements differ in finiteness (NaN/∞):{faults}");
        }

        // Pass 2: every finite element within abs + rel·|ref| (+ row slack).
        int failures = 0;
        double maxError = 0, errorSquares = 0, referenceSquares = 0;
        int finiteCount = 0;
        for (int index = 0; index < expected.Length; index++)
        {
            float e = expected[index], a = actual[index];
            if (!float.IsFinite(e))
            {
                continue;
            }

            int row = index / columns;
            double error = Math.Abs((double)a - e);
            double bound = tolerance.Absolute + tolerance.Relative * Math.Abs(e) + (rowSlack.IsEmpty ? 0 : rowSlack[row]);
            maxError = Math.Max(maxError, error);
            errorSquares += error * error;
            referenceSquares += (double)e * e;
            finiteCount++;
            if (!(error <= bound) && failures++ < MaxReported)
            {
                faults.Append(CultureInfo.InvariantCulture, $"\n  [{row}, {index % columns}] expected {e:R}, actual {a:R}, error {error:G3} > bound {bound:G3}");
            }
        }

        if (failures > 0)
        {
            Assert.Fail($"{context}: {failures} of {expected.Length} elements outside {tolerance} (max error {maxError:G3}):{faults}");
        }

        // Pass 3: the relative error norm of the whole tensor.
        double referenceNorm = Math.Max(Math.Sqrt(referenceSquares), tolerance.Absolute * Math.Sqrt(Math.Max(finiteCount, 1)));
        double relativeNorm = Math.Sqrt(errorSquares) / referenceNorm;
        double normBound = tolerance.Norm + (rowSlack.IsEmpty ? 0 : RootMeanSquare(rowSlack) * Math.Sqrt(finiteCount) / referenceNorm);
        if (!(relativeNorm <= normBound))
        {
            Assert.Fail($"{context}: relative error norm {relativeNorm:G3} > {normBound:G3} (max element error {maxError:G3}).");
        }
    }

    /// <summary>Asserts two results are bit-for-bit equal (for determinism across degrees of parallelism and equivalent calls).</summary>
    public static void AssertBitIdentical(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string context)
    {
        Assert.True(expected.Length == actual.Length, $"{context}: {expected.Length} vs {actual.Length} elements.");
        for (int index = 0; index < expected.Length; index++)
        {
            if (BitConverter.SingleToInt32Bits(expected[index]) != BitConverter.SingleToInt32Bits(actual[index]))
            {
                Assert.Fail($"{context}: element {index} differs, {expected[index]:R} vs {actual[index]:R}.");
            }
        }
    }

    private static double RootMeanSquare(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double value in values)
        {
            sum += value * value;
        }

        return Math.Sqrt(sum / values.Length);
    }
}
