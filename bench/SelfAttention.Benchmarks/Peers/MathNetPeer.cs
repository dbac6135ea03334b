using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks.Peers;

/// <summary>
/// Attention from MathNet.Numerics managed dense matrices, as a user of that library would write it: per head, build
/// Q, K and V from the head's rows, <c>S = Q·Kᵀ · scale</c>, a max-subtracted softmax per row, <c>O = P·V</c>, copy O
/// out. Managed provider (<see cref="Control.UseManaged"/>), one thread. Allocating matrices per call is its nature;
/// the allocated-bytes column shows it.
/// </summary>
public sealed class MathNetPeer : AttentionImplementation
{
    /// <summary>The table name.</summary>
    public const string PeerName = "MathNet";

    static MathNetPeer()
    {
        Control.UseManaged();
        Control.UseSingleThread();
    }

    /// <inheritdoc/>
    public override string Name => PeerName;

    /// <inheritdoc/>
    public override bool IsSlow => true;

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options)
    {
        int queryLength = shape.QueryLength, keyLength = shape.KeyLength, headDim = shape.HeadDim, valueDim = shape.ValueDim;
        int groupSize = shape.Heads / shape.KvHeads;
        float scale = options.Scale ?? 1f / MathF.Sqrt(headDim);

        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                int kvHead = h / groupSize;
                var q = HeadMatrix(query.Slice(b * queryLength * shape.Heads * headDim), queryLength, shape.Heads * headDim, h * headDim, headDim);
                var k = HeadMatrix(key.Slice(b * keyLength * shape.KvHeads * headDim), keyLength, shape.KvHeads * headDim, kvHead * headDim, headDim);
                var v = HeadMatrix(value.Slice(b * keyLength * shape.KvHeads * valueDim), keyLength, shape.KvHeads * valueDim, kvHead * valueDim, valueDim);

                Matrix<float> scores = q.TransposeAndMultiply(k) * scale;
                for (int i = 0; i < queryLength; i++)
                {
                    // Causal, bottom-right aligned: row i sees keys j ≤ i + keyLength − queryLength.
                    int visible = options.IsCausal ? Math.Clamp(i + keyLength - queryLength + 1, 0, keyLength) : keyLength;
                    if (visible < keyLength)
                    {
                        scores.ClearSubMatrix(i, 1, visible, keyLength - visible);
                    }

                    if (visible > 0)
                    {
                        scores.SetRow(i, 0, visible, Normalize(scores.Row(i, 0, visible), options.Normalization));
                    }
                }

                Matrix<float> result = scores * v;
                for (int i = 0; i < queryLength; i++)
                {
                    Span<float> outputRow = output.Slice(((b * queryLength) + i) * shape.Heads * valueDim + h * valueDim, valueDim);
                    for (int c = 0; c < valueDim; c++)
                    {
                        outputRow[c] = result[i, c];
                    }
                }
            }
        }
    }

    // rows × cols matrix from `rows` rows of `source` with the given pitch, starting at column `offset`.
    private static Matrix<float> HeadMatrix(ReadOnlySpan<float> source, int rows, int pitch, int offset, int cols)
    {
        var columnMajor = new float[rows * cols];
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> row = source.Slice(r * pitch + offset, cols);
            for (int c = 0; c < cols; c++)
            {
                columnMajor[c * rows + r] = row[c];
            }
        }

        return Matrix<float>.Build.Dense(rows, cols, columnMajor);
    }

    private static Vector<float> Normalize(Vector<float> scores, AttentionNormalization normalization)
    {
        if (normalization == AttentionNormalization.Softmax)
        {
            // p_j = e^(s_j − max) / Σ e^(s_k − max)
            Vector<float> exps = (scores - scores.Maximum()).PointwiseExp();
            return exps / exps.Sum();
        }

        float rowSum = scores.Sum();
        return rowSum == 0 ? scores * 0f : scores / rowSum;
    }
}
