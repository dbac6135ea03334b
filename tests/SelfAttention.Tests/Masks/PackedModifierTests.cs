using System.Globalization;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// Packed variable-length sequences with modifiers (<see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>
/// and the overload with a user modifier): ALiBi, sinks, a log-sum-exp output in <c>[Heads, totalRows]</c>, boolean and
/// additive masks indexed as a padded call's, softcap, causal and windows, grouped-query heads, at every kernel, against
/// the reference's packed path and against the same sequences padded (the log-sum-exp rearranged from
/// <c>[Batch, Heads, QueryLength]</c>); a user's modifier is asked with the sequence index and in-sequence indices, and
/// one that reproduces per-sequence causal equals the built-in causal bit for bit. Lengths include 0, 1 and the maximum.
/// Tolerance: <see cref="Tolerance.Magnitude1"/> (inputs of magnitude 1, the same bound as the unpacked modifier tests).
/// </summary>
public class PackedModifierTests
{
    private const int MaxQ = 40, MaxK = 52;

    public static TheoryData<int, AttentionKernel> Cases()
    {
        var data = new TheoryData<int, AttentionKernel>();
        foreach (AttentionKernel kernel in new[] { AttentionKernel.Auto, AttentionKernel.Tiled, AttentionKernel.RowByRow })
        {
            for (int seed = 0; seed < 12; seed++)
            {
                data.Add(seed, kernel);
            }
        }

        return data;
    }

    /// <summary>A random packed batch: lengths, offsets, inputs and the modifiers' arrays (masks over [Batch, Heads, MaxQ, MaxK]).</summary>
    private sealed class Batch
    {
        public required int[] QueryLengths, KeyLengths, QueryOffsets, KeyOffsets;
        public required float[] Q, K, V, Slopes, Sinks, Additive;
        public required bool[] Boolean;
        public required AttentionShape Shape;
        public int Sequences => QueryLengths.Length;
        public int TotalQ => QueryOffsets[^1];
        public int OutputWidth => Shape.Heads * Shape.ValueDim;

        public static Batch Make(int seed, int heads, int kvHeads)
        {
            var rng = new Random(seed);
            int batch = 1 + rng.Next(5), headDim = 8 + rng.Next(3) * 8, valueDim = 8;
            int[] queryLengths = new int[batch], keyLengths = new int[batch];
            int[] edges = { 0, 1, MaxQ };
            for (int b = 0; b < batch; b++)
            {
                queryLengths[b] = rng.Next(4) == 0 ? edges[rng.Next(3)] : 1 + rng.Next(MaxQ);
                keyLengths[b] = rng.Next(4) == 0 ? edges[rng.Next(3)] : 1 + rng.Next(MaxK);
            }

            int[] queryOffsets = Offsets(queryLengths), keyOffsets = Offsets(keyLengths);
            var shape = new AttentionShape(batch, MaxQ, MaxK, heads, headDim) { KvHeads = kvHeads, ValueDim = valueDim };
            int maskLength = batch * heads * MaxQ * MaxK;
            float[] additive = TestInputs.Uniform(rng, maskLength, 2f);
            for (int e = 0; e < maskLength; e += 7)
            {
                additive[e] = float.NegativeInfinity;
            }

            return new Batch
            {
                QueryLengths = queryLengths, KeyLengths = keyLengths, QueryOffsets = queryOffsets, KeyOffsets = keyOffsets, Shape = shape,
                Q = TestInputs.Uniform(rng, queryOffsets[batch] * heads * headDim, 1f),
                K = TestInputs.Uniform(rng, keyOffsets[batch] * kvHeads * headDim, 1f),
                V = TestInputs.Uniform(rng, keyOffsets[batch] * kvHeads * valueDim, 1f),
                Slopes = [.. Enumerable.Range(0, heads).Select(h => MathF.Pow(2f, -1 - h))],
                Sinks = TestInputs.Uniform(rng, heads, 2f),
                Additive = additive,
                Boolean = [.. Enumerable.Range(0, maskLength).Select(_ => rng.Next(5) != 0)],
            };
        }

        /// <summary>The modifiers of case <paramref name="seed"/>: ALiBi always, sinks on odd seeds, a log-sum-exp, and no mask, a per-(sequence, head) boolean mask or a shared additive one.</summary>
        public AttentionModifiers Modifiers(int seed, float[] lse) => new()
        {
            AlibiSlopes = Slopes,
            Sinks = seed % 2 == 1 ? Sinks : default,
            LogSumExp = lse,
            BooleanMask = seed % 3 == 1 ? Boolean : default,
            AdditiveMask = seed % 3 == 2 ? Additive.AsSpan(0, MaxQ * MaxK) : default,
            MaskStrides = seed % 3 == 1 ? new AttentionMaskStrides((long)Shape.Heads * MaxQ * MaxK, MaxQ * MaxK, MaxK, 1) : null,
        };

        /// <summary>The packed rows padded to [Batch, MaxQ or MaxK, width].</summary>
        public float[] Pad(float[] packed, int[] offsets, int[] lengths, int maxLength, int width)
        {
            float[] padded = new float[Sequences * maxLength * width];
            for (int b = 0; b < Sequences; b++)
            {
                packed.AsSpan(offsets[b] * width, lengths[b] * width).CopyTo(padded.AsSpan(b * maxLength * width));
            }

            return padded;
        }

        public string Context(int seed, AttentionKernel kernel, AttentionOptions options) => string.Create(CultureInfo.InvariantCulture,
            $"seed {seed}, {kernel}, queries [{string.Join(", ", QueryLengths)}], keys [{string.Join(", ", KeyLengths)}], H {Shape.Heads}/{Shape.KvHeads}, d {Shape.HeadDim}, {options}, {SimdWidth.Name}");
    }

    /// <summary>One packed call of the library or (naive) of the reference: output [totalQ, Heads·ValueDim], with the batch's modifiers.</summary>
    private delegate void PackedCall(float[] output, AttentionModifiers modifiers, bool naive);

    /// <summary>
    /// Runs <paramref name="call"/> through the library and the reference, each with the batch's modifiers and its own
    /// log-sum-exp buffer, and asserts both outputs close; returns the library's output and log-sum-exp.
    /// </summary>
    private static (float[] Output, float[] LogSumExp) AgainstTheReference(Batch batch, int seed, string context, string label, PackedCall call)
    {
        int heads = batch.Shape.Heads, totalQ = batch.TotalQ, ow = batch.OutputWidth;
        float[] packed = new float[totalQ * ow], reference = new float[totalQ * ow];
        float[] packedLse = new float[heads * totalQ], referenceLse = new float[heads * totalQ];
        call(packed, batch.Modifiers(seed, packedLse), naive: false);
        call(reference, batch.Modifiers(seed, referenceLse), naive: true);
        Oracle.AssertClose(reference, packed, totalQ, ow, Tolerance.Magnitude1, $"{context}: {label}packed against the reference");
        Oracle.AssertClose(referenceLse, packedLse, heads, totalQ, Tolerance.Magnitude1, $"{context}: {label}log-sum-exp against the reference");
        return (packed, packedLse);
    }

    private static AttentionOptions Options(int seed, AttentionKernel kernel) => (seed % 4) switch
    {
        0 => new AttentionOptions { Kernel = kernel, IsCausal = true },
        1 => new AttentionOptions { Kernel = kernel, IsCausal = true, CausalAlignment = CausalAlignment.TopLeft, Window = new AttentionWindow(5, 0), MaxDegreeOfParallelism = 2 },
        2 => new AttentionOptions { Kernel = kernel, SoftCap = 5f, Window = new AttentionWindow(-1, 3) },
        _ => new AttentionOptions { Kernel = kernel },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PackedWithModifiers_EqualsTheReference_AndPadded(int seed, AttentionKernel kernel)
    {
        var batch = Batch.Make(seed, heads: 4, kvHeads: seed % 2 == 0 ? 2 : 4);
        var options = Options(seed, kernel);
        var shape = batch.Shape;
        int heads = shape.Heads, totalQ = batch.TotalQ, ow = batch.OutputWidth;
        string context = batch.Context(seed, kernel, options);

        var (packed, packedLse) = AgainstTheReference(batch, seed, context, "",
            (output, modifiers, naive) =>
            {
                if (naive)
                {
                    NaiveAttention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, output, shape, batch.QueryOffsets, batch.KeyOffsets, modifiers, options);
                }
                else
                {
                    Attention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, output, shape, batch.QueryOffsets, batch.KeyOffsets, modifiers, options);
                }
            });

        // The same sequences padded, through the padded entry point: its rows and its [Batch, Heads, MaxQ] log-sum-exp,
        // real rows only, rearranged into the packed layouts.
        int qw = heads * shape.HeadDim, kw = shape.KvHeads * shape.HeadDim, vw = shape.KvHeads * shape.ValueDim;
        float[] padded = new float[batch.Sequences * MaxQ * ow], paddedLse = new float[batch.Sequences * heads * MaxQ];
        Attention.ComputeMultiHeadPadded(batch.Pad(batch.Q, batch.QueryOffsets, batch.QueryLengths, MaxQ, qw), batch.Pad(batch.K, batch.KeyOffsets, batch.KeyLengths, MaxK, kw),
                                         batch.Pad(batch.V, batch.KeyOffsets, batch.KeyLengths, MaxK, vw), padded, shape, batch.KeyLengths, batch.QueryLengths,
                                         batch.Modifiers(seed, paddedLse), options);
        float[] unpadded = new float[totalQ * ow], unpaddedLse = new float[heads * totalQ];
        for (int b = 0; b < batch.Sequences; b++)
        {
            padded.AsSpan(b * MaxQ * ow, batch.QueryLengths[b] * ow).CopyTo(unpadded.AsSpan(batch.QueryOffsets[b] * ow));
            for (int h = 0; h < heads; h++)
            {
                paddedLse.AsSpan((b * heads + h) * MaxQ, batch.QueryLengths[b]).CopyTo(unpaddedLse.AsSpan(h * totalQ + batch.QueryOffsets[b]));
            }
        }

        Oracle.AssertClose(unpadded, packed, totalQ, ow, Tolerance.Magnitude1, context + ": packed against padded");
        Oracle.AssertClose(unpaddedLse, packedLse, heads, totalQ, Tolerance.Magnitude1, context + ": log-sum-exp against padded");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void UserModifier_IsAskedWithTheSequence_AndMatchesTheReference(int seed, AttentionKernel kernel)
    {
        var batch = Batch.Make(seed + 100, heads: 4, kvHeads: 2);
        var options = Options(seed, kernel);
        var shape = batch.Shape;
        int heads = shape.Heads;
        string context = batch.Context(seed, kernel, options);

        // Both hides keys by (i + 2j + batch) % 5 and by the score: a kernel that passed the packed batch index 0 for
        // every sequence, or packed row indices, would differ from the reference.
        var user = new UserModifiers.Both();
        var (packed, _) = AgainstTheReference(batch, seed, context, "user modifier, ",
            (output, modifiers, naive) =>
            {
                if (naive)
                {
                    NaiveAttention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, output, shape, batch.QueryOffsets, batch.KeyOffsets, user, modifiers, options);
                }
                else
                {
                    Attention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, output, shape, batch.QueryOffsets, batch.KeyOffsets, user, modifiers, options);
                }
            });

        // Every question is about a real row and key of the sequence asked, in the sequence's own indices.
        int[] faults = new int[2];
        var probe = new UserModifiers.IndexProbe(faults, batch.Sequences, heads, MaxQ, MaxK, batch.QueryLengths, batch.KeyLengths);
        Attention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, packed, shape, batch.QueryOffsets, batch.KeyOffsets, probe, default, options);
        Assert.True(faults[0] == 0 && faults[1] == 0, $"{context}: {faults[0]} questions outside the shape, {faults[1]} past a sequence's lengths");
    }

    [Theory]
    [InlineData(AttentionKernel.Auto)]
    [InlineData(AttentionKernel.Tiled)]
    [InlineData(AttentionKernel.RowByRow)]
    public void UserPerSequenceCausal_EqualsTheBuiltInCausal_BitForBit(AttentionKernel kernel)
    {
        for (int seed = 0; seed < 6; seed++)
        {
            var batch = Batch.Make(seed + 200, heads: 4, kvHeads: 2);
            int[] offsets = [.. batch.KeyLengths.Zip(batch.QueryLengths, (k, q) => k - q)];
            float[] builtIn = new float[batch.TotalQ * batch.OutputWidth], user = new float[builtIn.Length];
            var modifiers = new AttentionModifiers { AlibiSlopes = batch.Slopes };
            var options = new AttentionOptions { Kernel = kernel };
            Attention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, builtIn, batch.Shape, batch.QueryOffsets, batch.KeyOffsets, modifiers, options with { IsCausal = true });
            Attention.ComputeMultiHeadPacked(batch.Q, batch.K, batch.V, user, batch.Shape, batch.QueryOffsets, batch.KeyOffsets,
                                             new UserModifiers.SequenceCausal(offsets), modifiers, options);
            Oracle.AssertBitIdentical(builtIn, user, batch.Context(seed, kernel, options) + ": per-sequence causal by hand against the built-in");
        }
    }

    [Fact]
    public void Degrees_OneAndTwo_AreBitIdentical()
    {
        // Sequences long enough to split into several work items per head.
        int[] lengths = [129, 63, 1, 200];
        int[] offsets = Offsets(lengths);
        var rng = new Random(9);
        int heads = 4, kvHeads = 2, d = 32, total = offsets[^1];
        var shape = new AttentionShape(lengths.Length, 200, 200, heads, d) { KvHeads = kvHeads };
        float[] q = TestInputs.Uniform(rng, total * heads * d, 1f), k = TestInputs.Uniform(rng, total * kvHeads * d, 1f), v = TestInputs.Uniform(rng, total * kvHeads * d, 1f);
        float[] sinks = TestInputs.Uniform(rng, heads, 1f), slopes = [0.5f, 0.25f, 0.125f, 0.0625f];
        float[] one = new float[total * heads * d], two = new float[one.Length], lseOne = new float[heads * total], lseTwo = new float[heads * total];
        var options = new AttentionOptions { IsCausal = true, SoftCap = 30f, Window = new AttentionWindow(48, 0) };
        Attention.ComputeMultiHeadPacked(q, k, v, one, shape, offsets, offsets, new UserModifiers.Both(),
                                         new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lseOne }, options with { MaxDegreeOfParallelism = 1 });
        Attention.ComputeMultiHeadPacked(q, k, v, two, shape, offsets, offsets, new UserModifiers.Both(),
                                         new AttentionModifiers { AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lseTwo }, options with { MaxDegreeOfParallelism = 2 });
        Oracle.AssertBitIdentical(one, two, "packed with modifiers, degree 1 against 2");
        Oracle.AssertBitIdentical(lseOne, lseTwo, "packed log-sum-exp, degree 1 against 2");
    }

    [Fact]
    public void LogSumExp_OfASequenceWithNoKeys_IsTheSinkOrMinusInfinity()
    {
        // Sequence 0 has 3 rows and no key, sequence 1 two rows over 4 keys: sequence 0's rows are 0 with the sink's
        // log-sum-exp (or −∞ without sinks), at their place in [Heads, 5].
        var shape = new AttentionShape(2, 3, 4, 2, 4);
        var rng = new Random(4);
        float[] q = TestInputs.Uniform(rng, 5 * 8, 1f), k = TestInputs.Uniform(rng, 4 * 8, 1f), v = TestInputs.Uniform(rng, 4 * 8, 1f);
        float[] sinks = [0.75f, -1.5f];
        foreach (bool withSinks in new[] { false, true })
        {
            float[] output = Enumerable.Repeat(float.NaN, 5 * 8).ToArray(), lse = Enumerable.Repeat(float.NaN, 2 * 5).ToArray();
            Attention.ComputeMultiHeadPacked(q, k, v, output, shape, [0, 3, 5], [0, 0, 4], new AttentionModifiers { LogSumExp = lse, Sinks = withSinks ? sinks : default });
            Assert.All(output.AsSpan(0, 3 * 8).ToArray(), x => Assert.Equal(0f, x));
            for (int h = 0; h < 2; h++)
            {
                for (int i = 0; i < 3; i++)
                {
                    Assert.Equal(withSinks ? sinks[h] : float.NegativeInfinity, lse[h * 5 + i]);
                }

                Assert.True(float.IsFinite(lse[h * 5 + 3]) && float.IsFinite(lse[h * 5 + 4]), $"head {h}: sequence 1's log-sum-exp is finite");
            }
        }
    }

    [Fact]
    public void LogSumExp_OfTwoKeyHalves_MergesIntoTheWhole()
    {
        // Each sequence's keys split in two packed calls (first halves, second halves); merging their outputs by
        // their log-sum-exps, o = Σ exp(lse_p − lse) o_p with lse = ln Σ exp(lse_p), gives the whole call.
        int[] queryLengths = [7, 1, 30], keyLengths = [20, 9, 31];
        int[] firstKeys = [.. keyLengths.Select(n => n / 2)], secondKeys = [.. keyLengths.Select(n => n - n / 2)];
        int heads = 2, d = 16, sequences = queryLengths.Length;
        var rng = new Random(12);
        int[] queryOffsets = Offsets(queryLengths), keyOffsets = Offsets(keyLengths), firstOffsets = Offsets(firstKeys), secondOffsets = Offsets(secondKeys);
        int totalQ = queryOffsets[^1], totalK = keyOffsets[^1], w = heads * d;
        float[] q = TestInputs.Uniform(rng, totalQ * w, 1f), k = TestInputs.Uniform(rng, totalK * w, 1f), v = TestInputs.Uniform(rng, totalK * w, 1f);
        float[] k1 = new float[firstOffsets[^1] * w], v1 = new float[k1.Length], k2 = new float[secondOffsets[^1] * w], v2 = new float[k2.Length];
        for (int b = 0; b < sequences; b++)
        {
            k.AsSpan(keyOffsets[b] * w, firstKeys[b] * w).CopyTo(k1.AsSpan(firstOffsets[b] * w));
            v.AsSpan(keyOffsets[b] * w, firstKeys[b] * w).CopyTo(v1.AsSpan(firstOffsets[b] * w));
            k.AsSpan((keyOffsets[b] + firstKeys[b]) * w, secondKeys[b] * w).CopyTo(k2.AsSpan(secondOffsets[b] * w));
            v.AsSpan((keyOffsets[b] + firstKeys[b]) * w, secondKeys[b] * w).CopyTo(v2.AsSpan(secondOffsets[b] * w));
        }

        var shape = new AttentionShape(sequences, 30, 31, heads, d);
        float[] whole = new float[totalQ * w], o1 = new float[whole.Length], o2 = new float[whole.Length];
        float[] lse = new float[heads * totalQ], lse1 = new float[lse.Length], lse2 = new float[lse.Length];
        Attention.ComputeMultiHeadPacked(q, k, v, whole, shape, queryOffsets, keyOffsets, new AttentionModifiers { LogSumExp = lse }, default);
        Attention.ComputeMultiHeadPacked(q, k1, v1, o1, shape, queryOffsets, firstOffsets, new AttentionModifiers { LogSumExp = lse1 }, default);
        Attention.ComputeMultiHeadPacked(q, k2, v2, o2, shape, queryOffsets, secondOffsets, new AttentionModifiers { LogSumExp = lse2 }, default);
        float[] merged = new float[whole.Length], mergedLse = new float[lse.Length];
        for (int h = 0; h < heads; h++)
        {
            for (int r = 0; r < totalQ; r++)
            {
                double a = lse1[h * totalQ + r], b2 = lse2[h * totalQ + r], m = Math.Max(a, b2);
                double total = m + Math.Log(Math.Exp(a - m) + Math.Exp(b2 - m));
                mergedLse[h * totalQ + r] = (float)total;
                for (int c = 0; c < d; c++)
                {
                    int e = r * w + h * d + c;
                    merged[e] = (float)(Math.Exp(a - total) * o1[e] + Math.Exp(b2 - total) * o2[e]);
                }
            }
        }

        Oracle.AssertClose(whole, merged, totalQ, w, Tolerance.Magnitude1, "packed halves merged by their log-sum-exp");
        Oracle.AssertClose(lse, mergedLse, heads, totalQ, Tolerance.Magnitude1, "packed log-sum-exp of the halves merged");
    }

    private static int[] Offsets(int[] lengths)
    {
        int[] offsets = new int[lengths.Length + 1];
        for (int b = 0; b < lengths.Length; b++)
        {
            offsets[b + 1] = offsets[b] + lengths[b];
        }

        return offsets;
    }
}
