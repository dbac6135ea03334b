namespace SelfAttention.Kernels.Masks;

/// <summary>
/// The intersection of two masks: row i sees key j when both do. Key ranges intersect, a tile is empty when either
/// says empty and full when both say full, and the static facts combine (a range AND a range is a range), so any
/// chain <c>And&lt;A, And&lt;B, C&gt;&gt;</c> runs in the same kernels as its parts.
/// </summary>
internal readonly struct And<TA, TB> : IAttentionMask<And<TA, TB>>
    where TA : unmanaged, IAttentionMask<TA>
    where TB : unmanaged, IAttentionMask<TB>
{
    private readonly TA _a;
    private readonly TB _b;

    public And(TA a, TB b)
    {
        _a = a;
        _b = b;
    }

    public static bool HidesNothing => TA.HidesNothing && TB.HidesNothing;

    public static bool IsRange => TA.IsRange && TB.IsRange;

    public static bool StartsAtZero => TA.StartsAtZero && TB.StartsAtZero;

    public And<TA, TB> ForHead(int batch, int head) => new(_a.ForHead(batch, head), _b.ForHead(batch, head));

    // Asked only inside Keys(i), which lies inside both parts' ranges, so each part's contract holds.
    public bool IsVisible(int i, int j) => (TA.IsRange || _a.IsVisible(i, j)) && (TB.IsRange || _b.IsVisible(i, j));

    public KeyRange Keys(int i)
    {
        KeyRange a = _a.Keys(i), b = _b.Keys(i);
        int start = Math.Max(a.Start, b.Start);
        return new KeyRange(start, Math.Max(start, Math.Min(a.End, b.End)));
    }

    public TileVisibility Classify(int i0, int rows, int j0, int keys)
    {
        TileVisibility a = _a.Classify(i0, rows, j0, keys);
        if (a == TileVisibility.Empty)
        {
            return a;
        }

        TileVisibility b = _b.Classify(i0, rows, j0, keys);
        return b == TileVisibility.Empty ? b : a == TileVisibility.Full && b == TileVisibility.Full ? a : TileVisibility.Partial;
    }
}
