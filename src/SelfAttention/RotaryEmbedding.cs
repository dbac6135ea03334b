using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SelfAttention.Internal;

using SelfAttention.Kernels;

namespace SelfAttention;

/// <summary>
/// Which channels of a head <see cref="RotaryEmbedding"/> rotates together. Both rotate pair <c>i</c> by the same angle
/// <c>pos · θ^(−2i/headDim)</c>; they differ only in where the two channels of pair <c>i</c> sit, so weights trained with
/// one layout give wrong results with the other. The two are related by a fixed permutation of each head's channels.
/// </summary>
public enum RotaryLayout
{
    /// <summary>
    /// Pair <c>i</c> is channels <c>(2i, 2i + 1)</c>, adjacent: the RoFormer paper (Su et al., 2021), GPT-J, and Meta's
    /// original Llama code (which views each head as <c>headDim/2</c> complex numbers).
    /// </summary>
    Interleaved,

    /// <summary>
    /// Pair <c>i</c> is channels <c>(i, i + headDim/2)</c>: the first half against the second half, as in GPT-NeoX and
    /// Hugging Face's Llama (<c>rotate_half</c>). Here the rotary dimension is the whole head (<c>rotaryDim = headDim</c>).
    /// </summary>
    HalfSplit,
}

/// <summary>
/// Rotary position embedding (RoPE; Su et al., 2021, "RoFormer"): rotates each pair <c>(a, b)</c> of a head's channels by
/// an angle proportional to the token's position,
/// <code>
/// angle = pos · θ^(−2i / headDim),  i ∈ [0, headDim/2)
/// (a, b) → (a·cos(angle) − b·sin(angle),  a·sin(angle) + b·cos(angle))
/// </code>
/// so that the dot product of a rotated query at position m and a rotated key at position n depends on the positions
/// only through m − n. Apply it to queries and keys (not values) before attention.
/// </summary>
/// <remarks>
/// The angles, cosines and sines are computed in double (one <see cref="Math.SinCos"/> per position and pair, shared by
/// every head of the row) and rounded to float; the rotation itself is float multiplies and adds without fused
/// multiply-adds, so the result is bit-identical at every SIMD width and for both layouts (up to the permutation that
/// relates them). Implementations that build their tables in float (Hugging Face, for example) differ from this one by
/// the rounding of the angle, which grows with the position. Nothing is allocated.
/// </remarks>
public static class RotaryEmbedding
{
    // Pairs whose inverse frequencies and per-row cos/sin tables live on the stack together: 64 doubles and 2·128 floats.
    // Each block sweeps every row, so for headDim ≤ 2·PairBlock (the usual case) the rows are visited in one pass.
    private const int PairBlock = 64;

    /// <summary>
    /// Rotates every head of every row of <paramref name="x"/> in place, row <c>r</c> at position <c>startPosition + r</c>.
    /// </summary>
    /// <param name="x">Queries or keys of one sequence, row-major <c>[sequenceLength, heads · headDim]</c>; exactly <c>sequenceLength · heads · headDim</c> floats. For a batch, call once per sequence.</param>
    /// <param name="sequenceLength">Rows (tokens); at least 0.</param>
    /// <param name="heads">Heads per row; at least 0.</param>
    /// <param name="headDim">Channels per head; even and at least 0.</param>
    /// <param name="startPosition">The position of row 0, for example the number of tokens already in a KV cache; at least 0.</param>
    /// <param name="layout">Which channels form a pair; see <see cref="RotaryLayout"/>.</param>
    /// <param name="theta">The base of the frequencies; finite and greater than 1 (10000 in RoFormer and Llama 1/2, 500000 in Llama 3).</param>
    /// <exception cref="ArgumentException">A size or <paramref name="startPosition"/> is negative, <paramref name="headDim"/> is odd, the product of the sizes overflows an int, <paramref name="x"/> is not exactly that long, <paramref name="layout"/> is not defined, or <paramref name="theta"/> is not finite or not greater than 1. Nothing is written.</exception>
    public static void Apply(Span<float> x, int sequenceLength, int heads, int headDim, int startPosition, RotaryLayout layout, float theta = 10000f)
    {
        if (sequenceLength < 0) ThrowHelper.ThrowNegative(nameof(sequenceLength), "sequenceLength", sequenceLength);
        if (heads < 0) ThrowHelper.ThrowNegative(nameof(heads), "heads", heads);
        if (headDim < 0) ThrowHelper.ThrowNegative(nameof(headDim), "headDim", headDim);
        if ((headDim & 1) != 0) ThrowOddHeadDim(headDim);
        if (startPosition < 0) ThrowHelper.ThrowNegative(nameof(startPosition), "startPosition", startPosition);
        if (layout is not (RotaryLayout.Interleaved or RotaryLayout.HalfSplit)) ThrowBadLayout(layout);
        if (!float.IsFinite(theta) || theta <= 1f) ThrowBadTheta(theta);

        long expected = AttentionValidation.Product(nameof(x), "sequenceLength·heads·headDim", int.MaxValue, sequenceLength, heads, headDim);
        if (x.Length != expected)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(x), "x length (sequenceLength·heads·headDim)", expected, x.Length);
        }

        if (x.IsEmpty)
        {
            return;
        }

        Rotate(x, sequenceLength, heads, headDim, startPosition, layout, theta);
    }

    // x: [sequenceLength, heads·headDim]. For each block of pairs: inverse frequencies once, then per row a cos/sin
    // table shared by every head of the row.
    //   HalfSplit:   cos[p] = cos(angle_p), sin[p] = sin(angle_p), p ∈ [0, pairCount).
    //   Interleaved: cos[2p] = cos[2p+1] = cos(angle_p); sin[2p] = −sin(angle_p), sin[2p+1] = +sin(angle_p), so that
    //                x'[m] = x[m]·cos[m] + x[m ^ 1]·sin[m] over the block's 2·pairCount contiguous channels.
    private static void Rotate(Span<float> x, int sequenceLength, int heads, int headDim, int startPosition, RotaryLayout layout, float theta)
    {
        int half = headDim / 2;
        int rowWidth = heads * headDim;
        Span<double> inverseFrequency = stackalloc double[PairBlock];
        Span<float> cosTable = stackalloc float[2 * PairBlock];
        Span<float> sinTable = stackalloc float[2 * PairBlock];
        ref float cos = ref MemoryMarshal.GetReference(cosTable);
        ref float sin = ref MemoryMarshal.GetReference(sinTable);
        ref float x0 = ref MemoryMarshal.GetReference(x);
        bool interleaved = layout == RotaryLayout.Interleaved;

        for (int pairStart = 0; pairStart < half; pairStart += PairBlock)
        {
            int pairCount = Math.Min(PairBlock, half - pairStart);
            for (int p = 0; p < pairCount; p++)
            {
                inverseFrequency[p] = Math.Pow(theta, -2.0 * (pairStart + p) / headDim);
            }

            for (int row = 0; row < sequenceLength; row++)
            {
                double position = (double)startPosition + row;
                for (int p = 0; p < pairCount; p++)
                {
                    (double s, double c) = Math.SinCos(position * inverseFrequency[p]);
                    if (interleaved)
                    {
                        cosTable[2 * p] = cosTable[2 * p + 1] = (float)c;
                        sinTable[2 * p] = -(float)s;
                        sinTable[2 * p + 1] = (float)s;
                    }
                    else
                    {
                        cosTable[p] = (float)c;
                        sinTable[p] = (float)s;
                    }
                }

                nint rowOffset = (nint)row * rowWidth;
                for (int h = 0; h < heads; h++)
                {
                    ref float head = ref Unsafe.Add(ref x0, rowOffset + (nint)h * headDim);
                    if (interleaved)
                    {
                        RotateAdjacent(ref Unsafe.Add(ref head, 2 * pairStart), ref cos, ref sin, 2 * pairCount);
                    }
                    else
                    {
                        RotateHalves(ref Unsafe.Add(ref head, pairStart), ref Unsafe.Add(ref head, half + pairStart), ref cos, ref sin, pairCount);
                    }
                }
            }
        }
    }

    // a, b: [count] (the two halves of a head's block); cos, sin: [count]. The widest accelerated width that fits once.
    private static void RotateHalves(ref float a, ref float b, ref float cos, ref float sin, int count)
    {
        if (Vector512.IsHardwareAccelerated && count >= Vector512<float>.Count) RotateHalves<Vector512<float>, Vector512Ops>(ref a, ref b, ref cos, ref sin, count);
        else if (Vector256.IsHardwareAccelerated && count >= Vector256<float>.Count) RotateHalves<Vector256<float>, Vector256Ops>(ref a, ref b, ref cos, ref sin, count);
        else if (Vector128.IsHardwareAccelerated && count >= Vector128<float>.Count) RotateHalves<Vector128<float>, Vector128Ops>(ref a, ref b, ref cos, ref sin, count);
        else RotateHalves<float, ScalarOps>(ref a, ref b, ref cos, ref sin, count);
    }

    // pairs: [count] channels, count even, pair k = (2k, 2k + 1); cos, sin: [count] in the interleaved table layout.
    private static void RotateAdjacent(ref float pairs, ref float cos, ref float sin, int count)
    {
        // Swapping the two floats of each pair as a 64-bit rotate relies on little-endian lane order.
        if (BitConverter.IsLittleEndian && Vector512.IsHardwareAccelerated && count >= Vector512<float>.Count) RotateAdjacent<Vector512<float>, Vector512Ops>(ref pairs, ref cos, ref sin, count);
        else if (BitConverter.IsLittleEndian && Vector256.IsHardwareAccelerated && count >= Vector256<float>.Count) RotateAdjacent<Vector256<float>, Vector256Ops>(ref pairs, ref cos, ref sin, count);
        else if (BitConverter.IsLittleEndian && Vector128.IsHardwareAccelerated && count >= Vector128<float>.Count) RotateAdjacent<Vector128<float>, Vector128Ops>(ref pairs, ref cos, ref sin, count);
        else RotateAdjacent<float, ScalarOps>(ref pairs, ref cos, ref sin, count);
    }

    // a' = a·cos − b·sin, b' = a·sin + b·cos; the scalar tail computes the very same expressions.
    private static void RotateHalves<TV, TOps>(ref float a, ref float b, ref float cos, ref float sin, int count)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        nuint n = (nuint)count, i = 0;
        if (TOps.Count > 1)
        {
            for (; i + (nuint)TOps.Count <= n; i += (nuint)TOps.Count)
            {
                TV va = TOps.Load(ref a, i), vb = TOps.Load(ref b, i), vc = TOps.Load(ref cos, i), vs = TOps.Load(ref sin, i);
                TOps.Store(TOps.Subtract(TOps.Multiply(va, vc), TOps.Multiply(vb, vs)), ref a, i);
                TOps.Store(TOps.Add(TOps.Multiply(va, vs), TOps.Multiply(vb, vc)), ref b, i);
            }
        }

        for (; i < n; i++)
        {
            float ai = Unsafe.Add(ref a, i), bi = Unsafe.Add(ref b, i), c = Unsafe.Add(ref cos, i), s = Unsafe.Add(ref sin, i);
            Unsafe.Add(ref a, i) = ai * c - bi * s;
            Unsafe.Add(ref b, i) = ai * s + bi * c;
        }
    }

    // x'[m] = x[m]·cos[m] + x[m ^ 1]·sin[m]: with sin[2k] = −s this is a·c + b·(−s), which rounds exactly as a·c − b·s;
    // the odd channel is b·c + a·s. Vectors hold whole pairs (an even lane count), so the tail starts on a pair.
    private static void RotateAdjacent<TV, TOps>(ref float pairs, ref float cos, ref float sin, int count)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
    {
        Debug.Assert((count & 1) == 0);
        nuint n = (nuint)count, i = 0;
        if (TOps.Count > 1)
        {
            for (; i + (nuint)TOps.Count <= n; i += (nuint)TOps.Count)
            {
                TV v = TOps.Load(ref pairs, i);
                TV rotated = TOps.Add(TOps.Multiply(v, TOps.Load(ref cos, i)), TOps.Multiply(TOps.SwapPairs(v), TOps.Load(ref sin, i)));
                TOps.Store(rotated, ref pairs, i);
            }
        }

        for (; i < n; i += 2)
        {
            float a = Unsafe.Add(ref pairs, i), b = Unsafe.Add(ref pairs, i + 1);
            Unsafe.Add(ref pairs, i) = a * Unsafe.Add(ref cos, i) + b * Unsafe.Add(ref sin, i);
            Unsafe.Add(ref pairs, i + 1) = b * Unsafe.Add(ref cos, i + 1) + a * Unsafe.Add(ref sin, i + 1);
        }
    }

    [DoesNotReturn]
    private static void ThrowOddHeadDim(int headDim) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"headDim must be even (channels are rotated in pairs): expected an even value, actual {headDim}."), nameof(headDim));

    [DoesNotReturn]
    private static void ThrowBadLayout(RotaryLayout layout) =>
        throw new ArgumentOutOfRangeException(nameof(layout), layout,
            string.Create(CultureInfo.InvariantCulture, $"layout: expected Interleaved or HalfSplit, actual {(int)layout}."));

    [DoesNotReturn]
    private static void ThrowBadTheta(float theta) =>
        throw new ArgumentOutOfRangeException(nameof(theta), theta,
            string.Create(CultureInfo.InvariantCulture, $"theta: expected a finite value greater than 1, actual {theta}."));
}
