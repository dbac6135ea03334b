namespace SelfAttention;

/// <summary>
/// Where the causal mask and the sliding window (<see cref="AttentionOptions.Window"/>) anchor the query rows against
/// the keys when the query and key lengths differ. With equal lengths both alignments are the same mask.
/// </summary>
public enum CausalAlignment
{
    /// <summary>
    /// The default, as FlashAttention and KV caches: the last query row is aligned with the last key, so row <c>i</c>
    /// sits at key position <c>i + (keyLength − queryLength)</c> and causal attention lets it see keys
    /// <c>j ≤ i + (keyLength − queryLength)</c>. Rows with <c>i + keyLength − queryLength &lt; 0</c> see nothing.
    /// </summary>
    BottomRight,

    /// <summary>
    /// As PyTorch's <c>scaled_dot_product_attention(is_causal=True)</c> (<c>torch.tril</c> of the
    /// <c>[queryLength, keyLength]</c> matrix): the first query row is aligned with the first key, so row <c>i</c> sits at
    /// key position <c>i</c> and causal attention lets it see keys <c>j ≤ i</c>.
    /// </summary>
    TopLeft,
}
