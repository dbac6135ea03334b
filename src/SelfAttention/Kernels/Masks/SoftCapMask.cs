using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// Logit soft-capping (Gemma 2, <see cref="AttentionOptions.SoftCap"/>): the scaled score becomes <c>cap·tanh(s / cap)</c>,
/// smoothly bounded to <c>(−cap, cap)</c>, before any bias or mask. A modifier only: it hides nothing.
/// <para>
/// The float form is <c>cap·tanh(|u|) = cap·(1 − t)/(1 + t)</c>, <c>t = e^(−2|u|)</c>, <c>u = s/cap</c>, written as
/// <c>cap·m/(−2 − m)</c> with <c>m = t − 1</c> from <see cref="FastExp"/>'s range reduction (<c>2ⁿ·q + (2ⁿ − 1)</c>, which
/// does not cancel near 0, so no series branch is needed there), the sign restored by the cap's: one exp's worth of
/// work, a division and a few operations per score, a few float ulps of cap·tanh everywhere, NaN kept. The tiled
/// kernel applies it to each register tile of scores as the score kernel stores it (<see cref="ModifiesLanes"/>).
/// </para>
/// </summary>
internal readonly unsafe struct SoftCapMask : IAttentionMask<SoftCapMask>
{
    private readonly float _cap, _minusTwoOverCap;
    private readonly int _keyLength;

    public SoftCapMask(float cap, int keyLength)
    {
        _cap = cap;
        _minusTwoOverCap = -2f / cap;
        _keyLength = keyLength;
    }

    public static bool HidesNothing => true;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public static bool ModifiesScores => true;

    public SoftCapMask ForHead(int batch, int head) => this;

    public bool IsVisible(int i, int j) => true;

    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;

    public double ModifyScore(double score, int i, int j) => _cap * Math.Tanh(score / _cap);

    public void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV> => Cap<TV, TOps>(st, keyCount * bq);

    public void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV> => Cap<TV, TOps>(s, count);

    /// <summary>The softcap is the whole modification, and it depends on the score alone: the tiled kernel applies it in registers.</summary>
    public static bool ModifiesLanes => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ModifyLanes<TV, TOps>(in SoftCapMask mask, TV scores)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        Capped<TV, TOps>(scores, mask._cap, mask._minusTwoOverCap);

    public static bool ModifiesTileAfterLanes => false;

    public static void ModifyTileAfterLanes<TV, TOps>(in SoftCapMask mask, float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
    }

    /// <summary><c>x[n] = cap·tanh(x[n] / cap)</c> for n &lt; count: whole vectors, then the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Cap<TV, TOps>(float* x, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, n = 0;
        for (; n + w <= count; n += w)
        {
            TOps.Store(Capped<TV, TOps>(TOps.Load(ref x[0], (nuint)n), _cap, _minusTwoOverCap), ref x[0], (nuint)n);
        }

        for (; n < count; n++)
        {
            x[n] = Capped<float, ScalarOps>(x[n], _cap, _minusTwoOverCap);
        }
    }

    /// <summary><c>cap·tanh(s / cap)</c> lane by lane, as the type remarks describe; <paramref name="minusTwoOverCap"/> is <c>−2/cap</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Capped<TV, TOps>(TV s, float cap, float minusTwoOverCap)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // x = −2|s|/cap ≤ 0, raised to FastExp's underflow bound (where e^x − 1 is −1 in float anyway). The hardware
        // max keeps a NaN s: x86 returns its second operand, Arm and the scalar form the NaN.
        TV x = TOps.Multiply(TOps.MaxNative(s, TOps.Subtract(TOps.Zero, s)), TOps.Create(minusTwoOverCap));
        x = TOps.MaxNative(TOps.Create(FastExp.Underflow), x);

        // e^x − 1 = 2ⁿ·q + (2ⁿ − 1), with FastExp's reduction x = n·ln2 + r and e^r = 1 + q: 2ⁿ − 1 is exact, so
        // nothing cancels near x = 0 (n = 0 there and the result is q itself).
        TV shifted = TOps.MultiplyAdd(x, TOps.Create(FastExp.Log2E), TOps.Create(FastExp.Shifter));
        TV powerOfTwo = TOps.ShiftIntoExponent(shifted);
        TV n = TOps.Subtract(shifted, TOps.Create(FastExp.Shifter));
        TV r = TOps.MultiplyAdd(n, TOps.Create(-FastExp.Ln2Hi), x);
        r = TOps.MultiplyAdd(n, TOps.Create(-FastExp.Ln2Lo), r);
        TV r2 = TOps.Multiply(r, r);
        TV p01 = TOps.MultiplyAdd(TOps.Create(FastExp.P0), r, TOps.Create(FastExp.P1));
        TV p23 = TOps.MultiplyAdd(TOps.Create(FastExp.P2), r, TOps.Create(FastExp.P3));
        TV p45 = TOps.MultiplyAdd(TOps.Create(FastExp.P4), r, TOps.Create(FastExp.P5));
        TV q = TOps.MultiplyAdd(TOps.MultiplyAdd(TOps.MultiplyAdd(p01, r2, p23), r2, p45), r2, r);
        TV expm1 = TOps.MultiplyAdd(q, powerOfTwo, TOps.Subtract(powerOfTwo, TOps.Create(1f)));

        // tanh(|u|) = (1 − e^(−2|u|)) / (1 + e^(−2|u|)) = expm1 / (−2 − expm1), times cap with the sign of s.
        TV signedCap = TOps.SelectWhereLess(s, TOps.Zero, TOps.Create(-cap), TOps.Create(cap));
        return TOps.Divide(TOps.Multiply(expm1, signedCap), TOps.Subtract(TOps.Create(-2f), expm1));
    }
}
