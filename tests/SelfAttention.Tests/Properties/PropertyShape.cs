using CommunityToolkit.HighPerformance;
using FsCheck;
using FsCheck.Fluent;
using SelfAttention.Tests.Helpers;

namespace SelfAttention.Tests.Properties;

/// <summary>
/// A small random attention problem for the properties: lengths 1–40 (key length from 0), dims 1–70, a kernel, the
/// options, and a seed from which the values are drawn (so FsCheck shrinks the shape and the seed, and a counterexample
/// prints everything needed to reproduce it).
/// </summary>
public sealed record PropertyShape(int QueryLength, int KeyLength, int HeadDim, int ValueDim, bool IsCausal,
                                   AttentionNormalization Normalization, AttentionKernel Kernel, int Seed)
{
    public AttentionOptions Options => new() { IsCausal = IsCausal, Normalization = Normalization, Kernel = Kernel };

    /// <summary>Shapes with any options; Sum normalisation draws positive query and key (see <see cref="Inputs"/>).</summary>
    public static Arbitrary<PropertyShape> Any(int minKeyLength = 0) => Generator(minKeyLength).ToArbitrary();

    /// <summary>The generator behind <see cref="Any"/>, for composing with other generators.</summary>
    public static Gen<PropertyShape> Generator(int minKeyLength = 0) =>
        from nq in Gen.Choose(1, 40)
         from nk in Gen.Choose(minKeyLength, 40)
         from d in Gen.Choose(1, 70)
         from dv in Gen.Choose(1, 70)
         from causal in Gen.Elements(false, true)
         from normalization in Gen.Elements(AttentionNormalization.Softmax, AttentionNormalization.Sum)
         from kernel in Gen.Elements(TestInputs.Kernels)
         from seed in Gen.Choose(0, int.MaxValue)
         select new PropertyShape(nq, nk, d, dv, causal, normalization, kernel, seed);

    /// <summary>q, k (positive for Sum normalisation, so Σs is far from 0) and v, row-major.</summary>
    public (float[] Query, float[] Key, float[] Value) Inputs(float magnitude = 1f)
    {
        var rng = new Random(Seed);
        bool positive = Normalization == AttentionNormalization.Sum;
        float[] q = positive ? TestInputs.Between(rng, QueryLength * HeadDim, 0.1f, magnitude) : TestInputs.Uniform(rng, QueryLength * HeadDim, magnitude);
        float[] k = positive ? TestInputs.Between(rng, KeyLength * HeadDim, 0.1f, magnitude) : TestInputs.Uniform(rng, KeyLength * HeadDim, magnitude);
        float[] v = TestInputs.Uniform(rng, KeyLength * ValueDim, magnitude);
        return (q, k, v);
    }

    /// <summary>Runs either overload on contiguous views and returns output and weights (zeros without weights), row-major.</summary>
    public (float[] Output, float[] Weights) Run(float[] query, float[] key, float[] value, bool withWeights = false, AttentionOptions? options = null)
    {
        // Spare elements behind every buffer: Span2D rejects a [0, width] view over fewer than width elements (or
        // collapses it to [0, 0]), and an empty key must keep its head dim.
        float[] output = Padded(new float[QueryLength * ValueDim], ValueDim), weights = Padded(new float[QueryLength * KeyLength], KeyLength);
        var q = View(Padded(query, HeadDim), QueryLength, HeadDim);
        var k = View(Padded(key, HeadDim), KeyLength, HeadDim);
        var v = View(Padded(value, ValueDim), KeyLength, ValueDim);
        if (withWeights)
        {
            Attention.Compute(q, k, v, View(output, QueryLength, ValueDim), View(weights, QueryLength, KeyLength), options ?? Options);
        }
        else
        {
            Attention.Compute(q, k, v, View(output, QueryLength, ValueDim), options ?? Options);
        }

        return (output[..(QueryLength * ValueDim)], weights[..(QueryLength * KeyLength)]);
    }

    private static float[] Padded(float[] values, int width)
    {
        float[] padded = new float[values.Length + width + 1];
        values.CopyTo(padded, 0);
        return padded;
    }

    private static Span2D<float> View(float[] buffer, int height, int width) => new(buffer, 0, height, width, 0);

    /// <summary>Keys row i sees under the options' mask.</summary>
    public int VisibleKeys(int i) => IsCausal ? (int)Math.Clamp((long)i + KeyLength - QueryLength + 1, 0, KeyLength) : KeyLength;
}
