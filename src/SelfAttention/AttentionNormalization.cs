namespace SelfAttention;

/// <summary>How a row of attention scores becomes a row of attention weights.</summary>
public enum AttentionNormalization
{
    /// <summary>
    /// Stable softmax: <c>w_j = exp(s_j − max s) / Σ exp(s_k − max s)</c>. The maximum is always subtracted first,
    /// so scores such as 1000 never overflow. This is what transformers use.
    /// </summary>
    Softmax = 0,

    /// <summary>
    /// The plain "divide by the sum" normalisation, <c>w_j = s_j / Σ s_k</c>, a teaching alternative to softmax.
    /// Weights are not guaranteed to be non-negative; a row whose visible scores sum to zero gets zero weights.
    /// </summary>
    Sum = 1,
}
