namespace SelfAttention;

/// <summary>
/// A sliding window of keys around each query row's position, FlashAttention's <c>window_size = (left, right)</c>: with
/// the row at key position <c>p = i + (keyLength − queryLength)</c> (bottom-right, the default) or <c>p = i</c>
/// (<see cref="CausalAlignment.TopLeft"/>), row <c>i</c> sees key <c>j</c> when <c>p − Left ≤ j ≤ p + Right</c>.
/// A side of −1 is unbounded, so <c>(−1, −1)</c> is no window at all, <c>(256, 0)</c> is Mistral's 256-token causal window
/// and <c>(w, w)</c> a symmetric local window. A window combines with <see cref="AttentionOptions.IsCausal"/> (both must
/// let the key through), and with per-sequence lengths, where each sequence's own lengths place its rows.
/// </summary>
/// <param name="Left">Keys before the row's position it may see, at least 0; −1: every earlier key.</param>
/// <param name="Right">Keys after the row's position it may see, at least 0; −1: every later key.</param>
public readonly record struct AttentionWindow(int Left, int Right)
{
    /// <summary>The unbounded window <c>(−1, −1)</c>: the same as no window.</summary>
    public static AttentionWindow None => new(-1, -1);

    /// <summary>Whether this window hides nothing (both sides unbounded).</summary>
    public bool IsUnbounded => Left == -1 && Right == -1;
}
