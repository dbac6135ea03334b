using System.Runtime.Intrinsics;
using SelfAttention.Kernels;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary><see cref="IFloatVector{TV}.Transpose"/>, the in-register block transpose, at every vector width the CPU runs.</summary>
public class TransposeTests
{
    [Fact]
    public void Scalar_CopiesOneElement() => AssertTransposes<float, ScalarOps>("scalar");

    [Fact]
    public void Vector128_TransposesFourByFour()
    {
        if (Vector128.IsHardwareAccelerated)
        {
            AssertTransposes<Vector128<float>, Vector128Ops>("Vector128");
        }
    }

    [Fact]
    public void Vector256_TransposesEightByEight()
    {
        if (Vector256.IsHardwareAccelerated)
        {
            AssertTransposes<Vector256<float>, Vector256Ops>("Vector256");
        }
    }

    [Fact]
    public void Vector512_TransposesSixteenBySixteen()
    {
        if (Vector512.IsHardwareAccelerated)
        {
            AssertTransposes<Vector512<float>, Vector512Ops>("Vector512");
        }
    }

    /// <summary>
    /// Source and destination have pitches wider than the block (gaps filled with sentinels) and start off a vector
    /// boundary; every element must land at its transposed place and nothing else may change.
    /// </summary>
    private static void AssertTransposes<TV, TOps>(string name)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int n = TOps.Count, sourceStride = n + 3, destinationStride = n + 5, offset = 1;
        float[] source = new float[offset + n * sourceStride];
        float[] destination = new float[offset + n * destinationStride];
        for (int i = 0; i < source.Length; i++)
        {
            source[i] = i;
        }

        Array.Fill(destination, -1f);
        TOps.Transpose(ref source[offset], (nuint)sourceStride, ref destination[offset], (nuint)destinationStride);
        for (int i = 0; i < destination.Length; i++)
        {
            int c = (i - offset) / destinationStride, r = (i - offset) % destinationStride;
            bool inBlock = i >= offset && r < n && c < n;
            float expected = inBlock ? source[offset + r * sourceStride + c] : -1f;
            Assert.True(destination[i] == expected, $"{name}: destination[{i}] (column {c}, row {r}) is {destination[i]}, expected {expected}.");
        }
    }
}
