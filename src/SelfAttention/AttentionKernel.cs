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
}
