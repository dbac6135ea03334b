using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// Per-sequence lengths (padding): in sequence b, query rows <c>i &lt; QueryLength(b)</c> see keys <c>j &lt; KeyLength(b)</c>,
/// and rows past the query length see nothing (their output is 0). A prefix per row, so a range starting at 0: the
/// kernels never read a padded key, and a block of padded query rows visits no key at all. The lengths bind per
/// sequence in <see cref="ForHead"/>; before that the mask holds sequence 0's.
/// </summary>
internal readonly struct LengthsMask : IAttentionMask<LengthsMask>
{
    private readonly int _queryLength;
    private readonly int _keyLength;
    private readonly SequenceFrame _frame;

    private LengthsMask(int queryLength, int keyLength, SequenceFrame frame)
    {
        _queryLength = queryLength;
        _keyLength = keyLength;
        _frame = frame;
    }

    /// <summary>The lengths of <paramref name="frame"/>.</summary>
    public static LengthsMask Create(SequenceFrame frame) => new(frame.QueryLength(0), frame.KeyLength(0), frame);

    public static bool HidesNothing => false;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public LengthsMask ForHead(int batch, int head) => new(_frame.QueryLength(batch), _frame.KeyLength(batch), _frame);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => i < _queryLength && j < _keyLength;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i) => i < _queryLength ? new KeyRange(0, _keyLength) : default;

    public TileVisibility Classify(int i0, int rows, int j0, int keys)
    {
        if (i0 >= _queryLength || j0 >= _keyLength)
        {
            return TileVisibility.Empty;
        }

        return (long)i0 + rows <= _queryLength && (long)j0 + keys <= _keyLength ? TileVisibility.Full : TileVisibility.Partial;
    }

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
