using CommunityToolkit.HighPerformance;
using SelfAttention.Internal;
using SelfAttention.Kernels;

namespace SelfAttention;

/// <summary>
/// Scaled dot-product attention, <c>output = normalise(mask(scale · Q·Kᵀ)) · V</c>, with SIMD kernels for the CPU at
/// hand (AVX-512, AVX2, Arm NEON, scalar). Every entry point validates all of its arguments before it writes anything,
/// then runs one kernel; a steady-state call allocates nothing.
/// </summary>
/// <remarks>
/// Semantics: the scale defaults to <c>1/√headDim</c>; the causal mask is aligned bottom-right (see
/// <see cref="AttentionOptions.IsCausal"/>); a query row that can see no key gets output 0 and weights 0; softmax always
/// subtracts the row maximum; NaN in the inputs gives NaN in the affected output rows. The reference implementation with
/// the same semantics is <see cref="Reference.NaiveAttention"/>.
/// </remarks>
public static class Attention
{
    /// <summary>Computes one head of attention.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed, so a head inside a larger buffer is a view.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>; pitch gaps are never written. Must not overlap the inputs.</param>
    /// <param name="options">Scale, causal mask, normalisation and threads.</param>
    /// <exception cref="ArgumentException">A size does not match, the output overlaps an input, or an option is out of range; nothing has been written.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, default, hasWeights: false, options);
        RowByRowAttention.Compute(query, key, value, output, default, hasWeights: false, scale, options.IsCausal, options.Normalization);
    }

    /// <summary>Computes one head of attention and writes the attention weights as well.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0. Must not overlap the inputs or the output.</param>
    /// <param name="options">Scale, causal mask, normalisation and threads.</param>
    /// <exception cref="ArgumentException">A size does not match, an output overlaps an input or the other output, or an option is out of range; nothing has been written.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights: true, options);
        RowByRowAttention.Compute(query, key, value, output, weights, hasWeights: true, scale, options.IsCausal, options.Normalization);
    }

    /// <summary>Computes multi-head attention over flat BSNH buffers, with grouped-query and multi-query attention through <see cref="AttentionShape.KvHeads"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="options">Scale, causal mask, normalisation and threads.</param>
    /// <exception cref="ArgumentException">The shape is invalid or overflows, a buffer length does not match, the output overlaps an input, or an option is out of range; nothing has been written.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, AttentionShape shape, AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        int groupSize = shape.Heads / sizes.KvHeads;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                var views = HeadViews.Create(query, key, value, output, shape, b, h, h / groupSize);
                RowByRowAttention.Compute(views.Query, views.Key, views.Value, views.Output, default, hasWeights: false,
                                          sizes.Scale, options.IsCausal, options.Normalization);
            }
        }
    }
}
