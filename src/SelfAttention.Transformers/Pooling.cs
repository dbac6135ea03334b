using System.Globalization;
using System.Numerics.Tensors;
using SelfAttention.Internal;

namespace SelfAttention.Transformers;

/// <summary>
/// From token states to sentence vectors: pooling over packed sequences, and L2 normalisation (so that a dot product
/// is the cosine similarity). Allocation-free.
/// </summary>
public static class Pooling
{
    /// <summary>Pools each packed sequence's rows into one row.</summary>
    /// <param name="hidden">The token states, <c>[totalTokens, width]</c>.</param>
    /// <param name="sequenceOffsets"><c>[batch + 1]</c> cumulative token counts, from 0 to totalTokens.</param>
    /// <param name="width">The row width, ≥ 1.</param>
    /// <param name="mode">Mean over the tokens, or the first token. An empty sequence gives zeros.</param>
    /// <param name="output">One row per sequence, <c>[batch, width]</c>; shares no memory with <paramref name="hidden"/>.</param>
    /// <exception cref="ArgumentException">A length does not match, the offsets are wrong, the mode is undefined, or the spans overlap.</exception>
    public static void Pool(ReadOnlySpan<float> hidden, ReadOnlySpan<int> sequenceOffsets, int width, PoolingMode mode, Span<float> output)
    {
        if (width < 1) ThrowHelper.ThrowNotPositive(nameof(width), nameof(width), width);
        if (hidden.Length % width != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"hidden.Length: expected a multiple of width {width} (totalTokens · width), actual {hidden.Length}."), nameof(hidden));
        }

        TransformerValidation.CheckSequenceOffsets(sequenceOffsets, hidden.Length / width, nameof(sequenceOffsets));
        long expected = (long)(sequenceOffsets.Length - 1) * width;
        if (output.Length != expected) ThrowHelper.ThrowSizeMismatch(nameof(output), "output.Length (batch · width)", expected, output.Length);
        if (!Enum.IsDefined(mode))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, $"mode: expected Mean or Cls, actual {(int)mode}.");
        }

        AttentionValidation.CheckNoOverlap<float, float>(output, hidden, nameof(output), nameof(hidden));
        for (int b = 0; b + 1 < sequenceOffsets.Length; b++)
        {
            int start = sequenceOffsets[b], count = sequenceOffsets[b + 1] - start;
            Span<float> row = output.Slice(b * width, width);
            row.Clear();
            if (count == 0)
            {
                continue;
            }

            if (mode == PoolingMode.Cls)
            {
                hidden.Slice(start * width, width).CopyTo(row);
                continue;
            }

            // The mean as sentence-transformers takes it: the sum of the rows in order, then one division.
            for (int t = start; t < start + count; t++)
            {
                TensorPrimitives.Add(row, hidden.Slice(t * width, width), row);
            }

            TensorPrimitives.Multiply(row, 1f / count, row);
        }
    }

    /// <summary>
    /// Scales each row to unit Euclidean length in place, as <c>torch.nn.functional.normalize</c>: <c>x / max(‖x‖, 1e-12)</c>,
    /// so a zero row stays zero. The norm is summed in double, so rows of huge or tiny elements neither overflow nor
    /// underflow.
    /// </summary>
    /// <param name="rows">The rows, <c>[count, width]</c>.</param>
    /// <param name="width">The row width, ≥ 1, dividing <c>rows.Length</c>.</param>
    /// <exception cref="ArgumentException">The width is below 1 or does not divide the length.</exception>
    public static void NormalizeL2(Span<float> rows, int width)
    {
        if (width < 1) ThrowHelper.ThrowNotPositive(nameof(width), nameof(width), width);
        if (rows.Length % width != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"rows.Length: expected a multiple of width {width}, actual {rows.Length}."), nameof(rows));
        }

        for (int r = 0; r < rows.Length; r += width)
        {
            Span<float> row = rows.Slice(r, width);
            double sum = 0;
            foreach (float x in row)
            {
                sum += (double)x * x;
            }

            // Divided in double: the norm of a row near float.MaxValue need not be a float, nor its inverse a normal one.
            double norm = Math.Max(Math.Sqrt(sum), 1e-12);
            for (int c = 0; c < row.Length; c++)
            {
                row[c] = (float)(row[c] / norm);
            }
        }
    }
}
