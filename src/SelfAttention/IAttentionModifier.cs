namespace SelfAttention;

/// <summary>
/// A mask and/or score modification of your own, written as a struct and compiled into the library's kernels:
/// PyTorch FlexAttention's <c>mask_mod</c> and <c>score_mod</c>, specialised by the .NET JIT instead of a compiler.
/// Every kernel (row by row, tiled, decode) is generic over the modifier type, so your members inline into its loops:
/// a modifier costs what hand-written code in the kernel would, and the built-in masks, lengths and modifiers still
/// apply around it. Pass it to the generic overloads of <see cref="Attention"/>, <see cref="KvCache"/> and
/// <see cref="Reference.NaiveAttention"/> (the oracle, to test yours against).
/// <para>
/// Indices are those of one call: <c>batch</c> is the sequence, <c>head</c> the query head (with grouped-query attention
/// several heads share a key head; you see the query head), <c>queryIndex</c> the query row in <c>[0, QueryLength)</c>
/// and <c>keyIndex</c> the key in <c>[0, KeyLength)</c>. With bottom-right alignment (the default) query row i sits at
/// key position <c>i + KeyLength − QueryLength</c> of its sequence (that sequence's own lengths when they are given);
/// in a <see cref="KvCache"/> the keys are the cached tokens and the queries the last <c>queryLength</c> of them.
/// </para>
/// <para>
/// Order of operations: <c>s = q·k·scale</c> → softcap → <see cref="ModifyScore"/> → ALiBi → additive mask → the masks
/// (<see cref="IsVisible"/> ANDed with the boolean mask, causal, window and lengths) → softmax → weighted sum of values.
/// A score that <see cref="ModifyScore"/> makes −∞ is hidden, like a masked one; a row that sees no key gets zeros.
/// </para>
/// <para>
/// Rules your struct must keep: the members are pure functions of their arguments and the struct's fields (the kernels
/// call them from several threads at once, in any order, and may call them more than once for one element, or not at
/// all for an element another mask already hides); they do not throw; <see cref="ClassifyTile"/> answers
/// <see cref="AttentionTile.Full"/> or <see cref="AttentionTile.Empty"/> only when that is true of every element
/// (<see cref="AttentionTile.Partial"/> is always correct, only slower). The struct may hold references (an array of
/// document ids, say): the kernels read it in place, where you passed it, for the duration of the call.
/// </para>
/// <para>
/// Required: the two flags <see cref="MaskKind"/> and <see cref="ModifiesScores"/>, <see cref="IsVisible"/> and
/// <see cref="ModifyScore"/> (the identity where the flags say they are unused). Two optional members make a mask
/// faster: <see cref="ClassifyTile"/> lets the kernels skip empty tiles and run full ones unmasked (FlexAttention's
/// block mask), and <see cref="KeyRange"/> (with <see cref="AttentionMaskKind.Range"/>) gives each row's keys as one
/// run, so that partial tiles are masked with vector compares instead of a call per element. A modifier with an exact
/// range runs the same code as the built-in masks do, and gives the same bits as they do for the same rule.
/// </para>
/// <para>
/// The first call with a new modifier type compiles the kernels for it (a few milliseconds, fully optimised at once);
/// later calls allocate nothing.
/// </para>
/// </summary>
/// <typeparam name="TSelf">Your struct.</typeparam>
/// <example>
/// Causal attention written by hand, element by element (the built-in <see cref="AttentionOptions.IsCausal"/> is faster;
/// with <see cref="AttentionMaskKind.Range"/> and <c>KeyRange</c> = <c>(0, queryIndex + offset + 1)</c> this gives its bits):
/// <code>
/// readonly struct MyCausal(int offset) : IAttentionModifier&lt;MyCausal&gt;
/// {
///     private readonly int _offset = offset;
///     public static AttentionMaskKind MaskKind =&gt; AttentionMaskKind.Elements;
///     public static bool ModifiesScores =&gt; false;
///     public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) =&gt; keyIndex &lt;= queryIndex + _offset;
///     public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) =&gt; score;
///     public static AttentionTile ClassifyTile(in MyCausal m, int batch, int head, int queryStart, int queryCount, int keyStart, int keyCount) =&gt;
///         keyStart + keyCount - 1 &lt;= queryStart + m._offset ? AttentionTile.Full
///         : keyStart &gt; queryStart + queryCount - 1 + m._offset ? AttentionTile.Empty : AttentionTile.Partial;
/// }
/// </code>
/// </example>
public interface IAttentionModifier<TSelf> where TSelf : struct, IAttentionModifier<TSelf>
{
    /// <summary>
    /// How the modifier masks: <see cref="AttentionMaskKind.None"/> (it only changes scores), per element through
    /// <see cref="IsVisible"/>, or by the run of keys <see cref="KeyRange"/> gives each row (a bound, or the whole mask).
    /// Read when the kernels are compiled, so the answer must not change.
    /// </summary>
    static abstract AttentionMaskKind MaskKind { get; }

    /// <summary>
    /// Whether <see cref="ModifyScore"/> changes scores. False: it is never called, and the modifier only masks.
    /// Read when the kernels are compiled. A modifier that changes scores needs softmax normalisation.
    /// </summary>
    static abstract bool ModifiesScores { get; }

    /// <summary>The mask (FlexAttention's <c>mask_mod</c>), asked for <see cref="AttentionMaskKind.Elements"/> and <see cref="AttentionMaskKind.BoundedElements"/>: whether query row <paramref name="queryIndex"/> of head <paramref name="head"/> of sequence <paramref name="batch"/> may see key <paramref name="keyIndex"/>.</summary>
    /// <param name="batch">The sequence.</param>
    /// <param name="head">The query head.</param>
    /// <param name="queryIndex">The query row.</param>
    /// <param name="keyIndex">The key.</param>
    /// <returns>True when the row may attend to the key.</returns>
    bool IsVisible(int batch, int head, int queryIndex, int keyIndex);

    /// <summary>The score modification (FlexAttention's <c>score_mod</c>): the scaled (and soft-capped) score, modified.</summary>
    /// <param name="score">The score <c>q·k·scale</c>, after the softcap when there is one.</param>
    /// <param name="batch">The sequence.</param>
    /// <param name="head">The query head.</param>
    /// <param name="queryIndex">The query row.</param>
    /// <param name="keyIndex">The key.</param>
    /// <returns>The modified score; −∞ hides the key.</returns>
    float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex);

    /// <summary>
    /// Optional: what <see cref="IsVisible"/> says about a whole tile, query rows <c>[queryStart, queryStart + queryCount)</c>
    /// × keys <c>[keyStart, keyStart + keyCount)</c> (both counts at least 1, all inside the head), so that the kernels skip
    /// empty tiles and run full ones unmasked. The default answers <see cref="AttentionTile.Partial"/>: correct, and every
    /// element is asked.
    /// </summary>
    /// <param name="modifier">The modifier (a static member, so that a struct is never boxed to call it).</param>
    /// <param name="batch">The sequence.</param>
    /// <param name="head">The query head.</param>
    /// <param name="queryStart">The tile's first query row.</param>
    /// <param name="queryCount">The tile's query rows.</param>
    /// <param name="keyStart">The tile's first key.</param>
    /// <param name="keyCount">The tile's keys.</param>
    /// <returns>Full, Empty, or Partial when neither is certain.</returns>
    static virtual AttentionTile ClassifyTile(in TSelf modifier, int batch, int head, int queryStart, int queryCount, int keyStart, int keyCount) =>
        AttentionTile.Partial;

    /// <summary>
    /// The keys <c>[Start, End)</c> query row <paramref name="queryIndex"/> may see, for the mask kinds
    /// <see cref="AttentionMaskKind.BoundedElements"/> (a bound) and <see cref="AttentionMaskKind.Range"/> (exact); never
    /// asked otherwise. Clamped to <c>[0, keyLength]</c>; an End below Start is an empty range. Asked once per row and tile.
    /// </summary>
    /// <param name="modifier">The modifier (a static member, so that a struct is never boxed to call it).</param>
    /// <param name="batch">The sequence.</param>
    /// <param name="head">The query head.</param>
    /// <param name="queryIndex">The query row.</param>
    /// <param name="keyLength">The keys of the head (of the padded shape, or the cache's length).</param>
    /// <returns>The row's first key and one past its last.</returns>
    static virtual (int Start, int End) KeyRange(in TSelf modifier, int batch, int head, int queryIndex, int keyLength) => (0, keyLength);
}
