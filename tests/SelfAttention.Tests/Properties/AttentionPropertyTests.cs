using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Properties;

/// <summary>Algebraic properties of attention that hold for every kernel, checked on random small shapes with FsCheck.</summary>
/// <remarks>A failure prints the counterexample and FsCheck's seed; <c>[Property(Replay = "(seed, gamma)")]</c> on the test reruns exactly that case.</remarks>
[Properties(MaxTest = 150)]
public class AttentionPropertyTests
{
    /// <summary>Every weights row that sees at least one key sums to 1 (to float rounding over ≤ 40 terms); a row that sees none sums to 0.</summary>
    [Property]
    public Property WeightRows_SumToOne()
    {
        return Prop.ForAll(PropertyShape.Any(), shape =>
        {
            var (q, k, v) = shape.Inputs();
            var (_, weights) = shape.Run(q, k, v, withWeights: true);
            for (int i = 0; i < shape.QueryLength; i++)
            {
                double sum = 0;
                for (int j = 0; j < shape.KeyLength; j++)
                {
                    sum += weights[i * shape.KeyLength + j];
                }

                double expected = shape.VisibleKeys(i) == 0 ? 0 : 1;
                Assert.True(Math.Abs(sum - expected) <= 1e-5, $"{shape}: weights row {i} sums to {sum:R}, expected {expected}.");
            }
        });
    }

    /// <summary>
    /// Softmax ignores a constant added to every visible score. Adding the same vector a to every key row adds q_i·a to
    /// every score of row i, so the output must not change (to the rounding of the changed scores).
    /// </summary>
    [Property]
    public Property Softmax_IsInvariantToAddingAConstantToEveryScore()
    {
        var arbitrary = PropertyShape.Any(minKeyLength: 1).Filter(s => s.Normalization == AttentionNormalization.Softmax);
        return Prop.ForAll(arbitrary, shape =>
        {
            var (q, k, v) = shape.Inputs();
            float[] shift = TestInputs.Uniform(new Random(shape.Seed ^ 0x5A5A), shape.HeadDim, 1f);
            float[] shifted = (float[])k.Clone();
            for (int j = 0; j < shape.KeyLength; j++)
            {
                for (int c = 0; c < shape.HeadDim; c++)
                {
                    shifted[j * shape.HeadDim + c] += shift[c];
                }
            }

            float[] expected = shape.Run(q, k, v).Output, actual = shape.Run(q, shifted, v).Output;
            Oracle.AssertClose(expected, actual, shape.QueryLength, shape.ValueDim, new Tolerance(5e-5, 5e-4, 1e-4), $"{shape}, keys shifted by a common vector");
        });
    }

    /// <summary>The primitive softmax gives the same weights for x and x + c (to the rounding of x + c).</summary>
    [Property]
    public Property SoftmaxPrimitive_IsInvariantToAddingAConstant()
    {
        var arbitrary = (from length in Gen.Choose(1, 300)
                         from constant in Gen.Choose(-100_000, 100_000)
                         from seed in Gen.Choose(0, int.MaxValue)
                         select (Length: length, Constant: constant / 100f, Seed: seed)).ToArbitrary();
        return Prop.ForAll(arbitrary, input =>
        {
            float[] x = TestInputs.Uniform(new Random(input.Seed), input.Length, 10f);
            float[] shifted = x.Select(value => value + input.Constant).ToArray();
            float[] expected = new float[x.Length], actual = new float[x.Length];
            AttentionPrimitives.Softmax(x, expected);
            AttentionPrimitives.Softmax(shifted, actual);

            // x + c is rounded to u·|x + c|, which shifts a weight relatively by up to twice that; plus the float
            // error of both softmaxes (≤ u·(|x − max| + n + 8) each, see SoftmaxTests).
            double relative = Tolerance.FloatRoundoff * (4 * (10 + Math.Abs(input.Constant)) + 2 * (20 + input.Length + 8));
            for (int j = 0; j < x.Length; j++)
            {
                Assert.True(Math.Abs(actual[j] - expected[j]) <= relative * expected[j] + 1e-37,
                    $"Softmax length {input.Length} + {input.Constant}: weight {j} {actual[j]:R} vs {expected[j]:R}.");
            }
        });
    }

    /// <summary>Self-attention without positions is permutation-equivariant: permuting the rows of X (q = k = v = X) permutes the output rows the same way.</summary>
    [Property]
    public Property SelfAttention_IsPermutationEquivariant()
    {
        var arbitrary = PropertyShape.Any(minKeyLength: 1).Filter(s => !s.IsCausal && s.Normalization == AttentionNormalization.Softmax)
            .Convert(s => s with { KeyLength = s.QueryLength, ValueDim = s.HeadDim }, s => s);
        return Prop.ForAll(arbitrary, shape =>
        {
            int n = shape.QueryLength, d = shape.HeadDim;
            float[] x = TestInputs.Uniform(new Random(shape.Seed), n * d, 1f);
            int[] permutation = TestInputs.Permutation(new Random(shape.Seed + 1), n);
            float[] permuted = new float[x.Length];
            for (int i = 0; i < n; i++)
            {
                Array.Copy(x, permutation[i] * d, permuted, i * d, d);
            }

            float[] output = shape.Run(x, x, x).Output, permutedOutput = shape.Run(permuted, permuted, permuted).Output;
            float[] expected = new float[output.Length];
            for (int i = 0; i < n; i++)
            {
                Array.Copy(output, permutation[i] * d, expected, i * d, d);
            }

            // Only the order of the sums changes, so the results agree to a few float roundings.
            Oracle.AssertClose(expected, permutedOutput, n, d, new Tolerance(1e-5, 1e-4, 1e-5), $"{shape}, rows permuted by [{string.Join(", ", permutation)}]");
        });
    }

    /// <summary>Causal: output row i depends only on keys j ≤ i + nk − nq, so changing every later token (query, key and value rows) leaves it bit-for-bit unchanged.</summary>
    [Property]
    public Property Causal_OutputRowIgnoresLaterTokens()
    {
        var arbitrary = (from shape in PropertyShape.Generator(minKeyLength: 1)
                         from cut in Gen.Choose(0, 40)
                         select (Shape: shape with { IsCausal = true, KeyLength = shape.QueryLength }, Cut: cut)).ToArbitrary()
            .Filter(input => input.Cut < input.Shape.QueryLength);
        return Prop.ForAll(arbitrary, input =>
        {
            var (shape, cut) = input;
            var (q, k, v) = shape.Inputs();
            var (changedQ, changedK, changedV) = (shape with { Seed = shape.Seed ^ 0x3C3C }).Inputs();
            float[] q2 = Splice(q, changedQ, cut * shape.HeadDim), k2 = Splice(k, changedK, cut * shape.HeadDim), v2 = Splice(v, changedV, cut * shape.ValueDim);
            var (before, weightsBefore) = shape.Run(q, k, v, withWeights: true);
            var (after, weightsAfter) = shape.Run(q2, k2, v2, withWeights: true);
            float[] plainBefore = shape.Run(q, k, v).Output, plainAfter = shape.Run(q2, k2, v2).Output;
            for (int i = 0; i < cut; i++)
            {
                for (int c = 0; c < shape.ValueDim; c++)
                {
                    int index = i * shape.ValueDim + c;
                    Assert.True(before[index].Equals(after[index]) && plainBefore[index].Equals(plainAfter[index]),
                        $"{shape}: tokens from {cut} on changed, yet output[{i}, {c}] changed ({before[index]:R} → {after[index]:R}, without weights {plainBefore[index]:R} → {plainAfter[index]:R}).");
                }

                for (int j = 0; j < shape.KeyLength; j++)
                {
                    int index = i * shape.KeyLength + j;
                    Assert.True(weightsBefore[index].Equals(weightsAfter[index]), $"{shape}: tokens from {cut} on changed, yet weights[{i}, {j}] changed.");
                }
            }
        });
    }

    /// <summary>A query row that sees no key (causal with nq > nk, or no keys at all) gets output 0 and weights 0, never NaN.</summary>
    [Property(MaxTest = 100)]
    public Property RowWithNoVisibleKey_IsZero()
    {
        var arbitrary = PropertyShape.Any().Filter(s => s.KeyLength == 0 || (s.IsCausal && s.QueryLength > s.KeyLength));
        return Prop.ForAll(arbitrary, shape =>
        {
            var (q, k, v) = shape.Inputs();
            var (output, weights) = shape.Run(q, k, v, withWeights: true);
            float[] plain = shape.Run(q, k, v).Output;
            int hidden = 0;
            for (int i = 0; i < shape.QueryLength && shape.VisibleKeys(i) == 0; i++, hidden++)
            {
                for (int c = 0; c < shape.ValueDim; c++)
                {
                    Assert.True(output[i * shape.ValueDim + c] == 0f && plain[i * shape.ValueDim + c] == 0f,
                        $"{shape}: row {i} sees no key, output[{i}, {c}] = {output[i * shape.ValueDim + c]} / {plain[i * shape.ValueDim + c]} (with / without weights).");
                }

                for (int j = 0; j < shape.KeyLength; j++)
                {
                    Assert.True(weights[i * shape.KeyLength + j] == 0f, $"{shape}: row {i} sees no key, weights[{i}, {j}] = {weights[i * shape.KeyLength + j]}.");
                }
            }

            Assert.True(hidden > 0, $"{shape}: the generator should give rows with no visible key.");
        });
    }

    /// <summary>The output is linear in V: scaling V by a power of two scales the output exactly; by any α, to rounding.</summary>
    [Property]
    public Property ScalingValues_ScalesOutput()
    {
        var arbitrary = (from shape in PropertyShape.Generator()
                         from exponent in Gen.Choose(-20, 20)
                         from alpha in Gen.Choose(-4000, 4000)
                         select (Shape: shape, PowerOfTwo: MathF.Pow(2, exponent), Alpha: alpha / 1000f)).ToArbitrary();
        return Prop.ForAll(arbitrary, input =>
        {
            var (shape, powerOfTwo, alpha) = input;
            var (q, k, v) = shape.Inputs();
            float[] output = shape.Run(q, k, v).Output;

            float[] exact = shape.Run(q, k, v.Select(x => x * powerOfTwo).ToArray()).Output;
            for (int index = 0; index < output.Length; index++)
            {
                Assert.True(exact[index].Equals(output[index] * powerOfTwo), $"{shape}: V × {powerOfTwo} gave output element {index} = {exact[index]:R}, expected {output[index] * powerOfTwo:R}.");
            }

            float[] scaled = shape.Run(q, k, v.Select(x => x * alpha).ToArray()).Output;
            float[] expected = output.Select(x => x * alpha).ToArray();
            double size = Math.Max(Math.Abs(alpha), 1e-3);
            Oracle.AssertClose(expected, scaled, shape.QueryLength, shape.ValueDim, new Tolerance(2e-5 * size, 2e-4, 1e-4), $"{shape}, V × {alpha}");
        });
    }

    private static float[] Splice(float[] original, float[] replacement, int from)
    {
        float[] result = (float[])original.Clone();
        Array.Copy(replacement, from, result, from, result.Length - from);
        return result;
    }
}
