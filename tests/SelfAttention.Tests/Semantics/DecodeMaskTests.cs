using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Semantics;

/// <summary>
/// The decode kernel adds value rows eight or four at a time; a causal lane whose visible keys end inside such a group
/// must add only the rows it sees. A NaN or ∞ in a value row behind the mask must not reach it (as 0·∞ = NaN would).
/// </summary>
public class DecodeMaskTests
{
    [Theory]
    [InlineData(3, 70, float.NaN)]
    [InlineData(4, 131, float.PositiveInfinity)]
    [InlineData(2, 64, float.NegativeInfinity)]
    [InlineData(4, 72, float.NaN)]
    public void DecodeKernel_HiddenNonFiniteValue_ReachesOnlyTheRowsThatSeeIt(int queryLength, int keyLength, float poison)
    {
        const int heads = 3, headDim = 16;
        var rng = new Random(keyLength);
        var shape = new AttentionShape(1, queryLength, keyLength, heads, headDim);
        float[] q = TestInputs.Uniform(rng, queryLength * heads * headDim, 1f);
        float[] k = TestInputs.Uniform(rng, keyLength * heads * headDim, 1f);
        float[] v = TestInputs.Uniform(rng, keyLength * heads * headDim, 1f);
        float[] output = new float[queryLength * heads * headDim];

        // The last key is visible to the last query row only (bottom-right causal).
        int lastKey = keyLength - 1;
        for (int c = 0; c < heads * headDim; c++)
        {
            v[lastKey * heads * headDim + c] = poison;
        }

        Attention.ComputeMultiHead(q, k, v, output, shape, new AttentionOptions { IsCausal = true, Kernel = AttentionKernel.Decode });

        for (int i = 0; i < queryLength; i++)
        {
            for (int c = 0; c < heads * headDim; c++)
            {
                float value = output[i * heads * headDim + c];
                if (i < queryLength - 1)
                {
                    Assert.True(float.IsFinite(value), $"nq={queryLength} nk={keyLength}: row {i} cannot see key {lastKey} but output[{i}, {c}] = {value}");
                }
                else
                {
                    Assert.False(float.IsFinite(value), $"nq={queryLength} nk={keyLength}: the last row sees key {lastKey} ({poison}) but output[{i}, {c}] = {value}");
                }
            }
        }
    }
}
