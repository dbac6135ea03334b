namespace SelfAttention.Internal;

/// <summary>
/// No modifier of the user's: masks nothing, modifies nothing. The type argument of the calls without one where a
/// path is written once over a user's modifier (the reference's heads, the packed entry points).
/// </summary>
internal readonly struct NoModifier : IAttentionModifier<NoModifier>
{
    public static AttentionMaskKind MaskKind => AttentionMaskKind.None;

    public static bool ModifiesScores => false;

    public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => true;

    public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;
}
