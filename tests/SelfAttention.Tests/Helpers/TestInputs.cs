using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>Deterministic random inputs: every generator takes an explicit seed, so a failure reproduces exactly.</summary>
public static class TestInputs
{
    /// <summary>The seed a test uses when it has no reason to pick another.</summary>
    public const int DefaultSeed = 20240611;

    /// <summary>Values uniform in <c>[−magnitude, magnitude]</c>.</summary>
    public static float[] Uniform(Random rng, int count, float magnitude)
    {
        var values = new float[count];
        for (int index = 0; index < count; index++)
        {
            values[index] = (float)((rng.NextDouble() * 2 - 1) * magnitude);
        }

        return values;
    }

    /// <summary>Values uniform in <c>[low, high]</c>.</summary>
    public static float[] Between(Random rng, int count, float low, float high)
    {
        var values = new float[count];
        for (int index = 0; index < count; index++)
        {
            values[index] = (float)(low + rng.NextDouble() * (high - low));
        }

        return values;
    }

    /// <summary>A random permutation of <c>0 … count−1</c> (Fisher–Yates).</summary>
    public static int[] Permutation(Random rng, int count)
    {
        var permutation = new int[count];
        for (int index = 0; index < count; index++)
        {
            permutation[index] = index;
        }

        for (int index = count - 1; index > 0; index--)
        {
            int other = rng.Next(index + 1);
            (permutation[index], permutation[other]) = (permutation[other], permutation[index]);
        }

        return permutation;
    }

    /// <summary>Every attention kernel, so a kernel added to the enum is tested without touching the tests.</summary>
    public static AttentionKernel[] Kernels => Enum.GetValues<AttentionKernel>();

    /// <summary>Every kernel as theory data.</summary>
    public static TheoryData<AttentionKernel> KernelData
    {
        get
        {
            var data = new TheoryData<AttentionKernel>();
            foreach (var kernel in Kernels)
            {
                data.Add(kernel);
            }

            return data;
        }
    }
}
