using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>No mask: every row sees every key. The kernels instantiated with it are the unmasked kernels.</summary>
internal readonly struct NoMask : IAttentionMask<NoMask>
{
    private readonly int _keyLength;

    public NoMask(int keyLength) => _keyLength = keyLength;

    public static bool HidesNothing => true;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public NoMask ForHead(int batch, int head) => this;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;

    public static bool ModifiesScores => false;

    public double ModifyScore(double score, int i, int j) => score;

    public unsafe void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
    }

    public unsafe void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
    }
}
