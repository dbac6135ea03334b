namespace SelfAttention;

/// <summary>
/// Which implementation <see cref="Attention"/> runs. <see cref="Auto"/> is right for production; the others exist
/// so that benchmarks and tests can compare implementations through the same validated entry points.
/// </summary>
public enum AttentionKernel
{
    /// <summary>The library picks the fastest implementation for the shape and the options.</summary>
    Auto = 0,

    /// <summary>
    /// Row by row: for each query row, vectorized dot products against every key, a fused stable softmax, then a
    /// vectorized weighted sum of value rows. Needs a scratch row of <c>KeyLength</c> floats per query row.
    /// </summary>
    RowByRow = 1,

    /// <summary>
    /// Register-blocked tiles with online softmax: a block of queries packed transposed in vector lanes, scores and the
    /// value sums from micro-kernels that keep their tiles in registers, memory O(tile) at any length. It computes
    /// softmax without a weights output; for <see cref="AttentionNormalization.Sum"/> or a weights output the row-by-row
    /// kernel runs instead.
    /// </summary>
    Tiled = 2,

    /// <summary>
    /// Few query rows (at most 4) against many keys, as in decoding with a KV cache: reads K and V once, in memory order,
    /// with a fused score, online softmax and value sum. For longer queries, <see cref="AttentionNormalization.Sum"/> or
    /// a weights output the row-by-row kernel runs instead.
    /// </summary>
    Decode = 3,
}
