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

    public bool IsVisible(int i, int j) => true;

    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;
}
