using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// Logit soft-capping (Gemma 2, <see cref="AttentionOptions.SoftCap"/>): the scaled score becomes <c>cap·tanh(s / cap)</c>,
/// smoothly bounded to <c>(−cap, cap)</c>, before any bias or mask. A modifier only: it hides nothing.
/// <para>
/// The float tanh is <c>(1 − t)/(1 + t)</c> with <c>t = e^(−2|x|)</c> (<see cref="FastExp"/>, whose domain is x ≤ 0),
/// the sign restored, and for <c>|x| &lt; 1/4</c>, where that quotient cancels, the odd Taylor series to x⁹ (truncation
/// below 3·10⁻⁹ relative there): about two float ulps of cap·tanh everywhere, NaN kept.
/// </para>
/// </summary>
internal readonly unsafe struct SoftCapMask : IAttentionMask<SoftCapMask>
{
    private readonly float _cap;
    private readonly int _keyLength;

    public SoftCapMask(float cap, int keyLength)
    {
        _cap = cap;
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

    /// <summary><c>x[n] = cap·tanh(x[n] / cap)</c> for n &lt; count: whole vectors, then the scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Cap<TV, TOps>(float* x, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, n = 0;
        TV cap = TOps.Create(_cap), inverse = TOps.Create(1f / _cap);
        for (; n + w <= count; n += w)
        {
            TOps.Store(TOps.Multiply(cap, Tanh<TV, TOps>(TOps.Multiply(TOps.Load(ref x[0], (nuint)n), inverse))), ref x[0], (nuint)n);
        }

        for (; n < count; n++)
        {
            x[n] = _cap * Tanh<float, ScalarOps>(x[n] * (1f / _cap));
        }
    }

    /// <summary>tanh lane by lane, as the type remarks describe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Tanh<TV, TOps>(TV x)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        TV a = TOps.Max(x, TOps.Subtract(TOps.Zero, x));
        TV t = FastExp.Exp<TV, TOps>(TOps.Multiply(a, TOps.Create(-2f)));
        TV one = TOps.Create(1f);
        TV large = TOps.Divide(TOps.Subtract(one, t), TOps.Add(one, t));
        TV a2 = TOps.Multiply(a, a);
        TV series = TOps.MultiplyAdd(a2, TOps.Create(62f / 2835f), TOps.Create(-17f / 315f));
        series = TOps.MultiplyAdd(a2, series, TOps.Create(2f / 15f));
        series = TOps.MultiplyAdd(a2, series, TOps.Create(-1f / 3f));
        series = TOps.MultiplyAdd(TOps.Multiply(a, a2), series, a);
        TV magnitude = TOps.SelectWhereLess(a, TOps.Create(0.25f), series, large);
        return TOps.SelectWhereLess(x, TOps.Zero, TOps.Subtract(TOps.Zero, magnitude), magnitude);
    }
}
