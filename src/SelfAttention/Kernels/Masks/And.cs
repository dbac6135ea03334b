using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// The intersection of two masks: row i sees key j when both do. Key ranges intersect, a tile is empty when either
/// says empty and full when both say full, and the static facts combine (a range AND a range is a range), so any
/// chain <c>And&lt;A, And&lt;B, C&gt;&gt;</c> runs in the same kernels as its parts. Score modifiers chain: A modifies
/// first, then B (<see cref="ModifyScore"/>).
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

    public static bool HidesNothing
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TA.HidesNothing && TB.HidesNothing;
    }

    public static bool IsRange
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TA.IsRange && TB.IsRange;
    }

    public static bool StartsAtZero
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TA.StartsAtZero && TB.StartsAtZero;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public And<TA, TB> ForHead(int batch, int head) => new(_a.ForHead(batch, head), _b.ForHead(batch, head));

    // Asked only inside Keys(i), which lies inside both parts' ranges, so each part's contract holds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => (TA.IsRange || _a.IsVisible(i, j)) && (TB.IsRange || _b.IsVisible(i, j));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i)
    {
        KeyRange a = _a.Keys(i), b = _b.Keys(i);
        int start = Math.Max(a.Start, b.Start);
        return new KeyRange(start, Math.Max(start, Math.Min(a.End, b.End)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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

    public static bool ModifiesScores
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TA.ModifiesScores || TB.ModifiesScores;
    }

    // A's modification, then B's: the stages are ANDed in the order of operations (softcap, then ALiBi, then bias).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double ModifyScore(double score, int i, int j)
    {
        if (TA.ModifiesScores)
        {
            score = _a.ModifyScore(score, i, j);
        }

        return TB.ModifiesScores ? _b.ModifyScore(score, i, j) : score;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (TA.ModifiesScores)
        {
            _a.ModifyTile<TV, TOps>(st, bq, i0, rows, j0, keyCount);
        }

        if (TB.ModifiesScores)
        {
            _b.ModifyTile<TV, TOps>(st, bq, i0, rows, j0, keyCount);
        }
    }

    // The lane step is A's when A leads with one; B's when A modifies nothing; none when A's modification comes first
    // but is not score-only (ALiBi before a softcap would be out of order anyway).
    private static bool ALeads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TA.ModifiesLanes;
    }

    private static bool BLeads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !TA.ModifiesScores && TB.ModifiesLanes;
    }

    public static bool ModifiesLanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ALeads || BLeads;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ModifyLanes<TV, TOps>(in And<TA, TB> mask, TV scores)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        ALeads ? TA.ModifyLanes<TV, TOps>(mask._a, scores) : BLeads ? TB.ModifyLanes<TV, TOps>(mask._b, scores) : scores;

    public static bool ModifiesTileAfterLanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => ALeads ? TA.ModifiesTileAfterLanes || TB.ModifiesScores : BLeads ? TB.ModifiesTileAfterLanes : ModifiesScores;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void ModifyTileAfterLanes<TV, TOps>(in And<TA, TB> mask, float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (ALeads)
        {
            TA.ModifyTileAfterLanes<TV, TOps>(mask._a, st, bq, i0, rows, j0, keyCount);
            if (TB.ModifiesScores)
            {
                mask._b.ModifyTile<TV, TOps>(st, bq, i0, rows, j0, keyCount);
            }
        }
        else if (BLeads)
        {
            TB.ModifyTileAfterLanes<TV, TOps>(mask._b, st, bq, i0, rows, j0, keyCount);
        }
        else
        {
            mask.ModifyTile<TV, TOps>(st, bq, i0, rows, j0, keyCount);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (TA.ModifiesScores)
        {
            _a.ModifyRow<TV, TOps>(s, i, j0, count);
        }

        if (TB.ModifiesScores)
        {
            _b.ModifyRow<TV, TOps>(s, i, j0, count);
        }
    }
}
