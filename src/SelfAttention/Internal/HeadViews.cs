using CommunityToolkit.HighPerformance;

namespace SelfAttention.Internal;

/// <summary>
/// One head of a validated BSNH call as 2-D views with pitch, so a head is a view, not a copy.
/// In a row of <c>Heads·HeadDim</c> floats, head <c>h</c> starts at <c>h·HeadDim</c> and the pitch to the next row
/// is <c>(Heads−1)·HeadDim</c>.
/// </summary>
internal readonly ref struct HeadViews
{
    public readonly ReadOnlySpan2D<float> Query;  // [QueryLength, HeadDim]
    public readonly ReadOnlySpan2D<float> Key;    // [KeyLength, HeadDim]
    public readonly ReadOnlySpan2D<float> Value;  // [KeyLength, ValueDim]
    public readonly Span2D<float> Output;         // [QueryLength, ValueDim]

    private HeadViews(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value, Span2D<float> output)
    {
        Query = query;
        Key = key;
        Value = value;
        Output = output;
    }

    /// <summary>The views of query head <paramref name="head"/> and key/value head <paramref name="kvHead"/> in batch <paramref name="batch"/>.</summary>
    public static HeadViews Create(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
                                   in AttentionShape shape, int batch, int head, int kvHead)
    {
        int nq = shape.QueryLength, nk = shape.KeyLength, d = shape.HeadDim, dv = shape.ValueDim;
        int h = shape.Heads, kvh = shape.KvHeads;
        if (nq == 0 || nk == 0)
        {
            // Nothing to read (every row sees no key) or nothing to write; kernels take their sizes from the output
            // view, and Span2D rejects offsets past the end of an empty buffer, so empty sides are default views.
            return new HeadViews(
                nq == 0 ? default : query.AsSpan2D((batch * nq * h + head) * d, nq, d, (h - 1) * d),
                default,
                default,
                nq == 0 ? default : output.AsSpan2D((batch * nq * h + head) * dv, nq, dv, (h - 1) * dv));
        }

        return new HeadViews(
            query.AsSpan2D((batch * nq * h + head) * d, nq, d, (h - 1) * d),
            key.AsSpan2D((batch * nk * kvh + kvHead) * d, nk, d, (kvh - 1) * d),
            value.AsSpan2D((batch * nk * kvh + kvHead) * dv, nk, dv, (kvh - 1) * dv),
            output.AsSpan2D((batch * nq * h + head) * dv, nq, dv, (h - 1) * dv));
    }
}
