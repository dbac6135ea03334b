using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Peers;

/// <summary>
/// Attention from the system OpenBLAS, the composition DESIGN.md §6 measured in C: per head
/// <c>S = scale · Q·Kᵀ</c> with one <c>cblas_sgemm</c> (scale as alpha), a vectorized max-subtracted softmax per row
/// (<see cref="AttentionPrimitives.Softmax"/>), then <c>O = P·V</c> with a second <c>cblas_sgemm</c>. The heads are read
/// and written in place through the BSNH pitch (lda/ldb/ldc), so nothing is copied. Causal rows are normalised over
/// their visible prefix and the rest set to 0 (the dense products are still computed in full). One thread; the score
/// matrix <c>[QueryLength, KeyLength]</c> is preallocated and pinned, so a call allocates nothing.
/// </summary>
public sealed unsafe class OpenBlasPeer : AttentionImplementation
{
    /// <summary>The table name.</summary>
    public const string PeerName = "OpenBLAS";

    // scores: [QueryLength, KeyLength] of one head, then its weights.
    private float[] _scores = [];

    /// <inheritdoc/>
    public override string Name => PeerName;

    /// <inheritdoc/>
    public override string? UnavailableReason => OpenBlasLibrary.FailureReason;

    /// <inheritdoc/>
    public override void Prepare(AttentionShape shape)
    {
        long length = (long)shape.QueryLength * shape.KeyLength;
        if (_scores.Length < length)
        {
            _scores = GC.AllocateArray<float>(checked((int)length), pinned: true);
        }
    }

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options)
    {
        int queryLength = shape.QueryLength, keyLength = shape.KeyLength, headDim = shape.HeadDim, valueDim = shape.ValueDim;
        int groupSize = shape.Heads / shape.KvHeads;
        int queryWidth = shape.Heads * headDim, keyWidth = shape.KvHeads * headDim;
        int valueWidth = shape.KvHeads * valueDim, outputWidth = shape.Heads * valueDim;
        float scale = options.Scale ?? 1f / MathF.Sqrt(headDim);
        if (queryLength == 0)
        {
            return;
        }

        if (keyLength == 0)
        {
            output.Clear();
            return;
        }

        var sgemm = OpenBlasLibrary.Sgemm;
        fixed (float* q = query, k = key, v = value, o = output, s = _scores)
        {
            for (int b = 0; b < shape.Batch; b++)
            {
                for (int h = 0; h < shape.Heads; h++)
                {
                    int kvHead = h / groupSize;
                    float* qHead = q + ((long)b * queryLength * queryWidth) + h * headDim;
                    float* kHead = k + ((long)b * keyLength * keyWidth) + kvHead * headDim;
                    float* vHead = v + ((long)b * keyLength * valueWidth) + kvHead * valueDim;
                    float* oHead = o + ((long)b * queryLength * outputWidth) + h * valueDim;

                    // S[queryLength, keyLength] = scale · Q[queryLength, headDim] · K[keyLength, headDim]ᵀ
                    sgemm(OpenBlasLibrary.RowMajor, OpenBlasLibrary.NoTrans, OpenBlasLibrary.Trans,
                          queryLength, keyLength, headDim, scale, qHead, queryWidth, kHead, keyWidth, 0f, s, keyLength);
                    NormalizeRows(new Span<float>(s, queryLength * keyLength), queryLength, keyLength, options);

                    // O[queryLength, valueDim] = P[queryLength, keyLength] · V[keyLength, valueDim]
                    sgemm(OpenBlasLibrary.RowMajor, OpenBlasLibrary.NoTrans, OpenBlasLibrary.NoTrans,
                          queryLength, valueDim, keyLength, 1f, s, keyLength, vHead, valueWidth, 0f, oHead, outputWidth);
                }
            }
        }
    }

    // scores: [queryLength, keyLength], normalised row by row in place; masked and invisible entries become 0.
    private static void NormalizeRows(Span<float> scores, int queryLength, int keyLength, in AttentionOptions options)
    {
        for (int i = 0; i < queryLength; i++)
        {
            // Causal, bottom-right aligned: row i sees keys j ≤ i + keyLength − queryLength.
            int visible = options.IsCausal ? Math.Clamp(i + keyLength - queryLength + 1, 0, keyLength) : keyLength;
            Span<float> row = scores.Slice(i * keyLength, keyLength);
            row[visible..].Clear();
            Span<float> seen = row[..visible];
            if (options.Normalization == AttentionNormalization.Softmax)
            {
                AttentionPrimitives.Softmax(seen, seen);
            }
            else
            {
                AttentionPrimitives.SumNormalize(seen, seen);
            }
        }
    }
}
