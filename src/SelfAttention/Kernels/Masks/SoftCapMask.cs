using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// Logit soft-capping (Gemma 2, <see cref="AttentionOptions.SoftCap"/>): the scaled score becomes <c>cap·tanh(s / cap)</c>,
/// smoothly bounded to <c>(−cap, cap)</c>, before any bias or mask. A modifier only: it hides nothing.
/// <para>
/// The float form is a rational function, <c>tanh(x) ≈ x·P(x²)/Q(x²)</c> with <c>x = s/cap</c> clamped to
/// <c>±<see cref="ClampAt"/></c> and P, Q of degree 4 in x²: eight FMAs, four multiplies, two clamps and one division per
/// vector of scores, where the exp-based form before it took about 23 operations and the division. The coefficients
/// come from a fit of the relative error of tanh on [0, 8.3] (Lawson-weighted linearised least squares, then each
/// coefficient nudged by ulps to lower the float error of this very evaluation, fused and unfused; the program is
/// <c>scripts/fit-softcap-tanh.cs</c>): 9.3e-9 in exact arithmetic, about 3.3e-7 relative (five ulps near 1) as
/// evaluated in float, odd, so relative accuracy holds near 0 with no series branch. Beyond the clamp tanh is 1 to within
/// 1.3e-7, and the clamp point is the first float from 8.3 at which the evaluation gives 1 exactly, so an infinite
/// score gives ±cap exactly; NaN stays NaN. The tiled kernel applies it to each register tile of scores as the score
/// kernel stores it (<see cref="ModifiesLanes"/>).
/// </para>
/// </summary>
internal readonly unsafe struct SoftCapMask : IAttentionMask<SoftCapMask>
{
    /// <summary>Where <c>x = s/cap</c> is clamped: see the type remarks.</summary>
    internal const float ClampAt = 8.300008f;

    // tanh(x)/x ≈ P(t)/Q(t), t = x², lowest degree first (see the type remarks).
    private const float P0 = 1f, P1 = 0.13425869f, P2 = 0.003549165f, P3 = 2.1508435E-05f, P4 = 1.46481725E-08f;
    private const float Q0 = 1f, Q1 = 0.4675919f, Q2 = 0.026079936f, Q3 = 0.00033739445f, Q4 = 8.295073E-07f;

    private readonly float _cap, _inverseCap;
    private readonly int _keyLength;

    public SoftCapMask(float cap, int keyLength)
    {
        _cap = cap;
        _inverseCap = 1f / cap;
        _keyLength = keyLength;
    }

    public static bool HidesNothing => true;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public static bool ModifiesScores => true;

    public SoftCapMask ForHead(int batch, int head) => this;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
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
        Capped<TV, TOps>(scores, mask._cap, mask._inverseCap);

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
            TOps.Store(Capped<TV, TOps>(TOps.Load(ref x[0], (nuint)n), _cap, _inverseCap), ref x[0], (nuint)n);
        }

        for (; n < count; n++)
        {
            x[n] = Capped<float, ScalarOps>(x[n], _cap, _inverseCap);
        }
    }

    /// <summary><c>cap·tanh(s / cap)</c> lane by lane, as the type remarks describe; <paramref name="inverseCap"/> is <c>1/cap</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Capped<TV, TOps>(TV s, float cap, float inverseCap)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // The constant goes first in each clamp: the hardware min and max then pass a NaN x through (x86 returns the
        // second operand, Arm and the scalar form the NaN), and an infinite x lands on the clamp.
        TV x = TOps.Multiply(s, TOps.Create(inverseCap));
        x = TOps.MinNative(TOps.Create(ClampAt), TOps.MaxNative(TOps.Create(-ClampAt), x));
        TV t = TOps.Multiply(x, x);
        TV p = TOps.MultiplyAdd(TOps.MultiplyAdd(TOps.MultiplyAdd(TOps.MultiplyAdd(
            TOps.Create(P4), t, TOps.Create(P3)), t, TOps.Create(P2)), t, TOps.Create(P1)), t, TOps.Create(P0));
        TV q = TOps.MultiplyAdd(TOps.MultiplyAdd(TOps.MultiplyAdd(TOps.MultiplyAdd(
            TOps.Create(Q4), t, TOps.Create(Q3)), t, TOps.Create(Q2)), t, TOps.Create(Q1)), t, TOps.Create(Q0));
        return TOps.Multiply(TOps.Divide(TOps.Multiply(x, p), q), TOps.Create(cap));
    }
}
