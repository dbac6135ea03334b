namespace SelfAttention;

/// <summary>The element type a <see cref="KvCache"/> keeps keys and values in.</summary>
public enum KvCacheStorage
{
    /// <summary>float32: exact; 4 bytes per element.</summary>
    Single = 0,

    /// <summary>
    /// IEEE half precision: 2 bytes per element, so a decode step reads half the memory. Keys and values are rounded to
    /// half when appended (about 3 significant digits; magnitudes above 65504 become infinite); scores, softmax and sums
    /// stay in float.
    /// </summary>
    Half = 1,
}
