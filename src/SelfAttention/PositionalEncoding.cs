using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using SelfAttention.Internal;

namespace SelfAttention;

/// <summary>
/// The fixed sinusoidal positional encoding of "Attention Is All You Need" (Vaswani et al., 2017, §3.5):
/// <code>
/// PE[pos, 2i]     = sin(pos / base^(2i / modelDim))
/// PE[pos, 2i + 1] = cos(pos / base^(2i / modelDim))
/// </code>
/// with <c>base = 10000</c> in the paper and <c>pos = startPosition + row</c>. When <c>modelDim</c> is odd the last
/// column is a sine term with no cosine partner. The angles, sines and cosines are computed in double and rounded to
/// float once, so every element is within half a float ulp of the exact value (plus the double rounding of the angle,
/// about 1e-16 relative). Nothing is allocated.
/// </summary>
public static class PositionalEncoding
{
    // Pairs whose inverse frequencies are computed together (on the stack); each block sweeps every row once, so for
    // modelDim ≤ 2·PairBlock (the usual case) the table is written in one row-major pass.
    private const int PairBlock = 64;

    /// <summary>Writes the sinusoidal table for positions <c>startPosition … startPosition + sequenceLength − 1</c>.</summary>
    /// <param name="destination">Receives the table, row-major <c>[sequenceLength, modelDim]</c>; exactly <c>sequenceLength · modelDim</c> floats.</param>
    /// <param name="sequenceLength">Rows (positions); at least 0.</param>
    /// <param name="modelDim">Columns (the embedding width); at least 0. May be odd.</param>
    /// <param name="startPosition">The position of row 0, for example the number of tokens already in a KV cache; at least 0.</param>
    /// <param name="baseValue">The base of the geometric frequency progression; finite and greater than 1.</param>
    /// <exception cref="ArgumentException">A size or <paramref name="startPosition"/> is negative, <c>sequenceLength · modelDim</c> overflows an int, <paramref name="destination"/> is not exactly that long, or <paramref name="baseValue"/> is not finite or not greater than 1. Nothing is written.</exception>
    public static void WriteSinusoidal(Span<float> destination, int sequenceLength, int modelDim, int startPosition = 0, float baseValue = 10000f)
    {
        Validate(destination.Length, sequenceLength, modelDim, startPosition, baseValue, nameof(destination));
        Compute(destination, sequenceLength, modelDim, startPosition, baseValue, accumulate: false);
    }

    /// <summary>
    /// Adds the sinusoidal table to <paramref name="embeddings"/> in place: <c>embeddings[row, c] += (float)PE[startPosition + row, c]</c>,
    /// the same float values <see cref="WriteSinusoidal"/> writes, without a temporary table.
    /// </summary>
    /// <param name="embeddings">Token embeddings, row-major <c>[sequenceLength, modelDim]</c>; exactly <c>sequenceLength · modelDim</c> floats.</param>
    /// <param name="sequenceLength">Rows (positions); at least 0.</param>
    /// <param name="modelDim">Columns (the embedding width); at least 0. May be odd.</param>
    /// <param name="startPosition">The position of row 0; at least 0.</param>
    /// <param name="baseValue">The base of the geometric frequency progression; finite and greater than 1.</param>
    /// <exception cref="ArgumentException">As for <see cref="WriteSinusoidal"/>, naming <paramref name="embeddings"/> for a length mismatch. Nothing is written.</exception>
    public static void AddSinusoidal(Span<float> embeddings, int sequenceLength, int modelDim, int startPosition = 0, float baseValue = 10000f)
    {
        Validate(embeddings.Length, sequenceLength, modelDim, startPosition, baseValue, nameof(embeddings));
        Compute(embeddings, sequenceLength, modelDim, startPosition, baseValue, accumulate: true);
    }

    private static void Validate(int length, int sequenceLength, int modelDim, int startPosition, float baseValue, string bufferName)
    {
        if (sequenceLength < 0) ThrowHelper.ThrowNegative(nameof(sequenceLength), "sequenceLength", sequenceLength);
        if (modelDim < 0) ThrowHelper.ThrowNegative(nameof(modelDim), "modelDim", modelDim);
        if (startPosition < 0) ThrowHelper.ThrowNegative(nameof(startPosition), "startPosition", startPosition);
        if (!float.IsFinite(baseValue) || baseValue <= 1f) ThrowBadBase(baseValue);

        long expected = AttentionValidation.Product(bufferName, "sequenceLength·modelDim", int.MaxValue, sequenceLength, modelDim);
        if (length != expected)
        {
            ThrowHelper.ThrowSizeMismatch(bufferName, $"{bufferName} length (sequenceLength·modelDim)", expected, length);
        }
    }

    // table: [sequenceLength, modelDim]. Column 2i holds sin(pos·ω_i), column 2i + 1 cos(pos·ω_i), ω_i = base^(−2i/modelDim).
    private static void Compute(Span<float> table, int sequenceLength, int modelDim, int startPosition, float baseValue, bool accumulate)
    {
        Debug.Assert(table.Length == (long)sequenceLength * modelDim);
        if (table.IsEmpty)
        {
            return; // no row or no column: no frequency needs computing
        }

        int pairs = modelDim / 2 + (modelDim & 1); // ⌈modelDim / 2⌉ without the overflow of modelDim + 1

        Span<double> inverseFrequency = stackalloc double[PairBlock];
        for (int pairStart = 0; pairStart < pairs; pairStart += PairBlock)
        {
            int pairCount = Math.Min(PairBlock, pairs - pairStart);
            for (int p = 0; p < pairCount; p++)
            {
                inverseFrequency[p] = Math.Pow(baseValue, -2.0 * (pairStart + p) / modelDim);
            }

            for (int row = 0; row < sequenceLength; row++)
            {
                Span<float> rowSpan = table.Slice(row * modelDim, modelDim);
                double position = (double)startPosition + row;
                for (int p = 0; p < pairCount; p++)
                {
                    int c = 2 * (pairStart + p);
                    (double sin, double cos) = Math.SinCos(position * inverseFrequency[p]);
                    if (accumulate)
                    {
                        rowSpan[c] += (float)sin;
                        if (c + 1 < modelDim) rowSpan[c + 1] += (float)cos;
                    }
                    else
                    {
                        rowSpan[c] = (float)sin;
                        if (c + 1 < modelDim) rowSpan[c + 1] = (float)cos;
                    }
                }
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowBadBase(float baseValue) =>
        throw new ArgumentOutOfRangeException(nameof(baseValue), baseValue,
            string.Create(CultureInfo.InvariantCulture, $"baseValue: expected a finite value greater than 1, actual {baseValue}."));
}
