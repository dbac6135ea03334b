using Xunit;
using Xunit.Sdk;

namespace SelfAttention.Tests.Helpers;

/// <summary>The test helpers catch what they exist to catch; a helper that never fails would make every test above it vacuous.</summary>
public class HelperTests
{
    [Fact]
    public void Oracle_AcceptsWithinToleranceAndRejectsOutside()
    {
        float[] expected = [1f, -2f, 0f, 1000f];
        Oracle.AssertClose(expected, [1.00001f, -2.0002f, 1e-5f, 1000.1f], 2, 2, Tolerance.Magnitude1 with { Norm = 1 }, "within");
        var failure = Assert.ThrowsAny<XunitException>(() => Oracle.AssertClose(expected, [1f, -2f, 0f, 1001f], 2, 2, Tolerance.Magnitude1, "shape nq=2 dv=2"));
        Assert.Contains("shape nq=2 dv=2", failure.Message, StringComparison.Ordinal);
        Assert.Contains("[1, 1]", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Oracle_ChecksNonFiniteFirst()
    {
        var failure = Assert.ThrowsAny<XunitException>(() => Oracle.AssertClose([1f, 2f], [1f, float.NaN], 1, 2, new Tolerance(1e30, 1e30, 1e30), "nan"));
        Assert.Contains("finiteness", failure.Message, StringComparison.Ordinal);
        Assert.ThrowsAny<XunitException>(() => Oracle.AssertClose([float.NaN, 2f], [1f, 2f], 1, 2, new Tolerance(1e30, 1e30, 1e30), "missing NaN"));
        Assert.ThrowsAny<XunitException>(() => Oracle.AssertClose([float.PositiveInfinity], [float.NegativeInfinity], 1, 1, new Tolerance(1e30, 1e30, 1e30), "wrong infinity"));
        Oracle.AssertClose([float.NaN, 2f], [float.NaN, 2f], 1, 2, Tolerance.Magnitude1, "matching NaN");
    }

    [Fact]
    public void Oracle_RejectsASmallErrorEverywhereThroughTheNorm()
    {
        float[] expected = Enumerable.Repeat(1f, 1000).ToArray();
        float[] actual = Enumerable.Repeat(1.0001f, 1000).ToArray();
        Oracle.AssertClose(expected, actual, 10, 100, new Tolerance(0, 2e-4, 1), "element-wise fine");
        Assert.ThrowsAny<XunitException>(() => Oracle.AssertClose(expected, actual, 10, 100, new Tolerance(0, 2e-4, 1e-5), "norm too large"));
    }

    [Fact]
    public void GuardedMatrix_DetectsWritesIntoGapsAndGuards()
    {
        var matrix = new GuardedMatrix(3, 4, pitch: 2, lead: 5, trail: 3);
        matrix.View.Fill(1f);
        matrix.AssertGuardsIntact("view writes only");
        Assert.Equal(3 * 4, matrix.ToDense().Count(x => x == 1f));

        matrix.Buffer[matrix.Index(1, 4)] = 0f; // first gap element after row 1
        Assert.ThrowsAny<XunitException>(() => matrix.AssertGuardsIntact("gap"));

        var leading = new GuardedMatrix(2, 2, 0, 1, 1);
        leading.Buffer[0] = 0f;
        Assert.ThrowsAny<XunitException>(() => leading.AssertGuardsIntact("lead"));

        var input = GuardedMatrix.Input(2, 3, [1f, 2f, 3f, 4f, 5f, 6f], new Random(1), pitched: true);
        Assert.True(float.IsNaN(input.Buffer[input.Index(0, 3)]), "input gaps hold NaN.");
        Assert.Equal(6f, input.ReadOnlyView[1, 2]);
        input.AssertUnchanged("untouched");
        input.Buffer[input.Index(1, 1)] = 0f;
        Assert.ThrowsAny<XunitException>(() => input.AssertUnchanged("written"));
    }

    [Fact]
    public void GuardedBuffer_DetectsWritesOutsideItsSpan()
    {
        var buffer = new GuardedBuffer(10);
        buffer.Span.Fill(2f);
        buffer.AssertGuardsIntact("inside");
        buffer.Buffer[^1] = 0f;
        Assert.ThrowsAny<XunitException>(() => buffer.AssertGuardsIntact("after"));
    }

    [Fact]
    public void TestInputs_AreReproducible()
    {
        Assert.Equal(TestInputs.Uniform(new Random(7), 50, 3f), TestInputs.Uniform(new Random(7), 50, 3f));
        Assert.All(TestInputs.Uniform(new Random(7), 500, 3f), x => Assert.InRange(x, -3f, 3f));
        Assert.Equal(Enumerable.Range(0, 20), TestInputs.Permutation(new Random(3), 20).Order());
    }
}
