namespace SelfAttention;

/// <summary>
/// The element type a <see cref="KvCache"/> keeps keys and values in. Scores, softmax and sums always run in float:
/// a low-precision cache only rounds what it stores, and a decode step reads fewer bytes (it is memory-bound, so it
/// is faster by about the byte ratio where the widening keeps up with memory).
/// </summary>
public enum KvCacheStorage
{
    /// <summary>float32: exact; 4 bytes per element.</summary>
    Single = 0,

    /// <summary>
    /// IEEE half precision: 2 bytes per element. Keys and values are rounded to half when appended (11 significant
    /// bits, relative error at most 2⁻¹¹; magnitudes above 65504 become infinite, below 6·10⁻⁵ lose precision).
    /// </summary>
    Half = 1,

    /// <summary>
    /// bfloat16 (the top 16 bits of a float32, rounded to nearest even): 2 bytes per element, float's range, 8
    /// significant bits (relative error at most 2⁻⁸).
    /// </summary>
    BFloat16 = 2,

    /// <summary>
    /// Symmetric 8-bit integers with one float scale per block of 32 values of a head's row (a block's scale is its
    /// largest magnitude / 127): 1.125 bytes per element. The error of a value is at most half a step of its block,
    /// <c>max|block| / 254</c>, so small values next to an outlier in the same block lose most of their precision.
    /// A non-finite value makes its whole block NaN.
    /// </summary>
    Int8 = 3,
}
