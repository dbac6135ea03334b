using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// A mask that the kernels are generic over (<c>where TMask : unmanaged, IAttentionMask&lt;TMask&gt;</c>), in the style of
/// TensorPrimitives' operator structs: the JIT compiles each kernel once per mask type, so the static properties below
/// are constants in it, the members inline, and <see cref="NoMask"/> costs nothing.
/// <para>
/// Indices: <c>i</c> is a query row in <c>[0, QueryLength)</c>, <c>j</c> a key in <c>[0, KeyLength)</c> of one head; a
/// mask is bound to a (batch, head) by <see cref="ForHead"/> before a work item asks it anything, so a mask that depends
/// on the batch or the head (per-sequence lengths) is looked up once per head, not per element.
/// </para>
/// <para>
/// The contract every implementation keeps, and every kernel relies on:
/// <list type="bullet">
/// <item><see cref="Keys"/>(i) is a range <c>[Start, End)</c> with <c>0 ≤ Start ≤ End ≤ KeyLength</c> that holds every key
/// row i may see (Start = End: it sees none). When <see cref="IsRange"/> is true it is exact: i sees j if and only if
/// Start ≤ j &lt; End, and kernels never call <see cref="IsVisible"/>. Otherwise it is a bound, and kernels test each
/// key inside it with <see cref="IsVisible"/>.</item>
/// <item><see cref="IsVisible"/>(i, j) is the per-element rule; it is only asked about keys inside <see cref="Keys"/>(i).</item>
/// <item><see cref="Classify"/> describes a tile, query rows <c>[i0, i0 + rows)</c> × keys <c>[j0, j0 + keys)</c>, all
/// inside the head (rows, keys ≥ 1): <see cref="TileVisibility.Full"/> promises that every row sees every key of the
/// tile (the kernel runs its unmasked inner loop there), <see cref="TileVisibility.Empty"/> that no row sees any key
/// (the kernel skips the tile: its keys are not even read), and <see cref="TileVisibility.Partial"/> promises nothing
/// (the kernel applies <see cref="Keys"/> and <see cref="IsVisible"/> per element). Answering Partial for a tile that
/// is in fact full or empty is always correct, only slower.</item>
/// </list>
/// Masks compose: <see cref="And{TA, TB}"/> intersects two, so causal AND window AND lengths needs no kernel of its own.
/// </para>
/// <para>
/// Score modifiers are members of this same interface: a static <see cref="ModifiesScores"/> flag and a per-element
/// modification of the scaled score, applied before the mask (scale → softcap → ALiBi/bias → mask → normalise), with
/// <see cref="And{TA, TB}"/> applying A's then B's, so that a chain of modifiers is one type argument too. A modifier
/// answers the element rule three ways, which must agree: <see cref="ModifyScore"/> in double (the exact row),
/// <see cref="ModifyTile"/> over the tiled kernel's transposed score tile (lanes are query rows) and
/// <see cref="ModifyRow"/> over one row of scores (lanes are keys), the last two vectorised where the modifier can be.
/// The kernels take the modified path only when the flag is set (a JIT-time constant): the tiled kernel then folds the
/// running max after modifying instead of while computing the scores, the others modify their scores row in place.
/// A modifier that hides keys does it by giving them −∞ (an additive or boolean mask), which the online softmax
/// weighs 0; masks that are not modifiers implement the three members as the identity.
/// </para>
/// </summary>
/// <typeparam name="TSelf">The implementing struct.</typeparam>
internal unsafe interface IAttentionMask<TSelf> where TSelf : unmanaged, IAttentionMask<TSelf>
{
    /// <summary>True when the mask hides nothing: kernels drop every mask step (a JIT-time constant).</summary>
    static abstract bool HidesNothing { get; }

    /// <summary>True when <see cref="Keys"/> is the whole rule (causal, windows, lengths): no per-element test.</summary>
    static abstract bool IsRange { get; }

    /// <summary>True when every row's <see cref="Keys"/> starts at key 0 (causal, lengths): kernels skip the lower bound.</summary>
    static abstract bool StartsAtZero { get; }

    /// <summary>This mask bound to one (batch, head); masks that depend on neither return themselves.</summary>
    TSelf ForHead(int batch, int head);

    /// <summary>Whether query row <paramref name="i"/> may see key <paramref name="j"/>, for j inside <see cref="Keys"/>(i).</summary>
    bool IsVisible(int i, int j);

    /// <summary>The keys query row <paramref name="i"/> may see: exact when <see cref="IsRange"/>, a bound otherwise.</summary>
    KeyRange Keys(int i);

    /// <summary>Whether the tile rows <c>[i0, i0 + rows)</c> × keys <c>[j0, j0 + keys)</c> is fully visible, partly visible or empty.</summary>
    TileVisibility Classify(int i0, int rows, int j0, int keys);

    /// <summary>True when the mask modifies scores (<see cref="ModifyScore"/>); false: the three members are the identity and kernels never call them (a JIT-time constant).</summary>
    static abstract bool ModifiesScores { get; }

    /// <summary>The scaled score of row <paramref name="i"/> and key <paramref name="j"/>, modified: the rule, in double.</summary>
    double ModifyScore(double score, int i, int j);

    /// <summary>
    /// <see cref="ModifyScore"/> in float over a transposed tile: <c>st[j·bq + r]</c>, score of row <c>i0 + r</c> and key
    /// <c>j0 + j</c>, for <c>j &lt; keyCount</c> and <c>r &lt; rows</c> (lanes <c>rows ≤ r &lt; bq</c> may be modified too,
    /// so long as nothing outside the head is read for them). st: [keyCount][bq], bq a multiple of the lane count.
    /// </summary>
    void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>;

    /// <summary><see cref="ModifyScore"/> in float over one row: <c>s[j]</c>, score of row <paramref name="i"/> and key <c>j0 + j</c>, for <c>j &lt; count</c>.</summary>
    void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>;

    /// <summary>
    /// True when the modification begins with a step that depends on the score alone, not on its indices (the softcap):
    /// the tiled kernel applies that step, <see cref="ModifyLanes"/>, to its score accumulators in registers before it
    /// stores them and folds them into the running max, and the rest, <see cref="ModifyTileAfterLanes"/>, over the
    /// stored tile. False by default: the whole modification is <see cref="ModifyTile"/>. A JIT-time constant.
    /// </summary>
    static virtual bool ModifiesLanes => false;

    /// <summary>The leading score-only step of the modification (see <see cref="ModifiesLanes"/>) on a vector of scores; the identity by default.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static virtual TV ModifyLanes<TV, TOps>(in TSelf mask, TV scores)
        where TV : struct where TOps : struct, IFloatVector<TV> => scores;

    /// <summary>True when something of the modification is left after <see cref="ModifyLanes"/> (by default: when it modifies at all and has no lane step).</summary>
    static virtual bool ModifiesTileAfterLanes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TSelf.ModifiesScores && !TSelf.ModifiesLanes;
    }

    /// <summary>
    /// The modification after its lane step, over a transposed tile as <see cref="ModifyTile"/>: with
    /// <see cref="ModifyLanes"/> applied first it equals <see cref="ModifyTile"/>. By default the whole
    /// <see cref="ModifyTile"/> (a mask with a lane step overrides it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static virtual void ModifyTileAfterLanes<TV, TOps>(in TSelf mask, float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (TSelf.ModifiesTileAfterLanes)
        {
            mask.ModifyTile<TV, TOps>(st, bq, i0, rows, j0, keyCount);
        }
    }
}

/// <summary>What a mask says about one tile (a block of query rows × a block of keys); see <see cref="IAttentionMask{TSelf}.Classify"/>.</summary>
internal enum TileVisibility : byte
{
    /// <summary>No row of the tile sees any of its keys: the tile is skipped.</summary>
    Empty,

    /// <summary>Some may, some may not: the kernel masks per element.</summary>
    Partial,

    /// <summary>Every row sees every key: the kernel runs its unmasked loop.</summary>
    Full,
}

/// <summary>Keys <c>[Start, End)</c> of one query row, with <c>0 ≤ Start ≤ End ≤ KeyLength</c>.</summary>
internal readonly struct KeyRange
{
    public readonly int Start, End;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange(int start, int end)
    {
        Start = start;
        End = end;
    }

    /// <summary>End − Start: how many keys the range holds.</summary>
    public int Count
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => End - Start;
    }

    /// <summary>The range's keys inside <c>[j0, j0 + count)</c>, relative to j0 and clamped to <c>[0, count]</c> (Start ≤ End still).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Within(int j0, int count)
    {
        int start = Math.Clamp(Start - j0, 0, count);
        return new KeyRange(start, Math.Clamp(End - j0, start, count));
    }
}
