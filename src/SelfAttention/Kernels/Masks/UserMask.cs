using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// A user's <see cref="IAttentionModifier{TSelf}"/> as one of the kernels' masks, so it runs in every kernel and ANDs
/// with the built-in masks like any other. The user's struct may hold references, which a mask (unmanaged, read by the
/// workers through a pointer) cannot; so this holds the address of the user's struct where the public entry point
/// received it, a parameter on the calling thread's stack that lives, and is reported to the GC, until the call
/// returns, which is after the last work item. Bound to a (batch, head) it passes both to every question it asks.
/// <list type="bullet">
/// <item>A modifier of mask kind Range is a range (it runs as the built-in ranges do); of kinds Elements and
/// BoundedElements it is not, <see cref="Keys"/> is every key or the user's bound, and the kernels ask
/// <see cref="IsVisible"/> about each element inside it; <see cref="Classify"/> is the user's tile answer.</item>
/// <item>A modifier that does not mask hides nothing, so the kernels drop every mask step for it; one that does not
/// modify scores has the identity modification, never called.</item>
/// <item>Scores are modified in float (the user's signature), element by element: the JIT inlines the user's member
/// into these loops, which is what a hand-written modifier would cost, save for vectorising it.</item>
/// </list>
/// </summary>
/// <typeparam name="TUser">The user's modifier.</typeparam>
internal readonly unsafe struct UserMask<TUser> : IAttentionMask<UserMask<TUser>>
    where TUser : struct, IAttentionModifier<TUser>
{
    private readonly void* _user;
    private readonly int _firstBatch, _batch, _head, _keyLength;

    private UserMask(void* user, int firstBatch, int batch, int head, int keyLength)
    {
        _user = user;
        _firstBatch = firstBatch;
        _batch = batch;
        _head = head;
        _keyLength = keyLength;
    }

    /// <summary>
    /// The mask over <paramref name="user"/>, which must stay where it is (a by-value parameter of the entry point that
    /// runs the call) until the call returns. <paramref name="firstBatch"/> is the user's sequence index of the
    /// problem's batch 0: a packed call runs each sequence as a problem of one, and the user is asked with the
    /// sequence's own index.
    /// </summary>
    public static UserMask<TUser> Create(ref TUser user, int keyLength, int firstBatch = 0) =>
        new(Unsafe.AsPointer(ref user), firstBatch, firstBatch, 0, keyLength);

    private ref TUser User => ref Unsafe.AsRef<TUser>(_user);

    private static bool Masks
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TUser.MaskKind != AttentionMaskKind.None;
    }

    private static bool HasRange
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TUser.MaskKind is AttentionMaskKind.Range or AttentionMaskKind.BoundedElements;
    }

    public static bool HidesNothing
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !Masks;
    }

    public static bool IsRange
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TUser.MaskKind is AttentionMaskKind.None or AttentionMaskKind.Range;
    }

    public static bool StartsAtZero
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => !HasRange;
    }

    public UserMask<TUser> ForHead(int batch, int head) => new(_user, _firstBatch, _firstBatch + batch, head, _keyLength);

    // Asked only when IsRange is false, i.e. for the per-element kinds.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => User.IsVisible(_batch, _head, i, j);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i)
    {
        if (!HasRange)
        {
            return new KeyRange(0, _keyLength);
        }

        // The user's range, clamped into the head: 0 ≤ Start ≤ End ≤ keyLength whatever it returned.
        (int start, int end) = TUser.KeyRange(User, _batch, _head, i, _keyLength);
        start = Math.Clamp(start, 0, _keyLength);
        return new KeyRange(start, Math.Clamp(end, start, _keyLength));
    }

    public TileVisibility Classify(int i0, int rows, int j0, int keys)
    {
        if (!Masks)
        {
            return TileVisibility.Full;
        }

        return TUser.ClassifyTile(User, _batch, _head, i0, rows, j0, keys) switch
        {
            AttentionTile.Full => TileVisibility.Full,
            AttentionTile.Empty => TileVisibility.Empty,
            _ => TileVisibility.Partial,
        };
    }

    public static bool ModifiesScores
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => TUser.ModifiesScores;
    }

    public double ModifyScore(double score, int i, int j) =>
        TUser.ModifiesScores ? User.ModifyScore((float)score, _batch, _head, i, j) : score;

    public void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // st[j·bq + r]: row i0 + r, key j0 + j. Only the head's rows are asked about; lanes past them keep their scores.
        ref TUser user = ref User;
        for (int j = 0; j < keyCount; j++)
        {
            float* s = st + j * bq;
            for (int r = 0; r < rows; r++)
            {
                s[r] = user.ModifyScore(s[r], _batch, _head, i0 + r, j0 + j);
            }
        }
    }

    public void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        ref TUser user = ref User;
        for (int j = 0; j < count; j++)
        {
            s[j] = user.ModifyScore(s[j], _batch, _head, i, j0 + j);
        }
    }
}
