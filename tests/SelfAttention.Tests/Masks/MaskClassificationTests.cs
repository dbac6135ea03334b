using System.Globalization;
using SelfAttention.Kernels.Masks;
using Xunit;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// The mask structs against their per-element rules, by brute force on ragged shapes: every key range holds every
/// visible key (exactly, for a range mask), and every tile of every size the kernels use is classified as the promise
/// says (Full: every pair visible; Empty: none; for the exact built-ins, Partial only when mixed).
/// </summary>
public class MaskClassificationTests
{
    // Tile sizes in use: tiled query blocks of 4·lanes rows (lanes 1, 4, 8, 16) and its key block of 128; the decode
    // key block of 64 and its value groups of 8 and 4 rows; the row-by-row block of 16 rows (one key at a time: 1).
    private static readonly int[] s_rowTiles = [1, 4, 16, 32, 64];
    private static readonly int[] s_keyTiles = [1, 4, 8, 64, 128];
    private static readonly (int QueryLength, int KeyLength)[] s_shapes = [(1, 1), (1, 130), (3, 200), (37, 37), (70, 50), (50, 300), (129, 131), (5, 3)];

    public static TheoryData<int, int> Shapes
    {
        get
        {
            var data = new TheoryData<int, int>();
            foreach (var (nq, nk) in s_shapes)
            {
                data.Add(nq, nk);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void NoMask_SeesEverything(int nq, int nk) =>
        Check(new NoMask(nk), nq, nk, (_, _) => true, exact: true, "none");

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CausalBottomRight_MatchesItsRule(int nq, int nk) =>
        Check(CausalMask.BottomRight(nq, nk), nq, nk, (i, j) => j <= (long)i + nk - nq, exact: true, "causal bottom-right");

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CausalTopLeft_MatchesItsRule(int nq, int nk) =>
        Check(CausalMask.TopLeft(nk), nq, nk, (i, j) => j <= i, exact: true, "causal top-left");

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Window_MatchesItsRule(int nq, int nk)
    {
        foreach (var (left, right) in new[] { (0, 0), (3, 0), (20, 5), (100, 100) })
        {
            Check(new WindowTestMask(nq, nk, left, right), nq, nk, (i, j) => WindowTestMask.Rule(nq, nk, left, right, i, j), exact: true,
                  string.Create(CultureInfo.InvariantCulture, $"window ({left}, {right})"));
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CausalAndWindow_IsTheIntersection(int nq, int nk)
    {
        var mask = new And<CausalMask, WindowTestMask>(CausalMask.TopLeft(nk), new WindowTestMask(nq, nk, 7, 9));
        Check(mask, nq, nk, (i, j) => j <= i && WindowTestMask.Rule(nq, nk, 7, 9, i, j), exact: false, "top-left causal AND window (7, 9)");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void CausalAndStripe_IsTheIntersection(int nq, int nk)
    {
        var mask = new And<CausalMask, StripeTestMask>(CausalMask.BottomRight(nq, nk), new StripeTestMask(nk));
        Check(mask, nq, nk, (i, j) => j <= (long)i + nk - nq && StripeTestMask.Rule(i, j), exact: false, "causal AND stripe");
    }

    private static readonly (int Left, int Right)[] s_windows = [(0, 0), (3, 0), (20, 5), (-1, 4), (9, -1), (-1, -1), (0, 130)];

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void WindowMask_MatchesItsRule_BothAlignments(int nq, int nk)
    {
        foreach (var alignment in new[] { CausalAlignment.BottomRight, CausalAlignment.TopLeft })
        {
            long offset = alignment == CausalAlignment.TopLeft ? 0 : (long)nk - nq;
            foreach (var (left, right) in s_windows)
            {
                var mask = WindowMask.Create(new AttentionWindow(left, right), alignment, new SequenceFrame(nq, nk));
                Check(mask, nq, nk, (i, j) => (left < 0 || j >= i + offset - left) && (right < 0 || j <= i + offset + right), exact: true,
                      string.Create(CultureInfo.InvariantCulture, $"window ({left}, {right}) {alignment}"));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public unsafe void PerSequenceMasks_BindEachSequencesLengths(int nq, int nk)
    {
        int[] keyLengths = [nk, 0, nk / 2 + 1, 1], queryLengths = [nq, nq, (nq + 1) / 2, 0];
        fixed (int* kl = keyLengths, ql = queryLengths)
        {
            var frame = new SequenceFrame(nq, nk, ql, kl);
            for (int b = 0; b < keyLengths.Length; b++)
            {
                int keys = keyLengths[b], queries = queryLengths[b];
                Check(LengthsMask.Create(frame), nq, nk, (i, j) => i < queries && j < keys, exact: true, "lengths", b);
                foreach (var alignment in new[] { CausalAlignment.BottomRight, CausalAlignment.TopLeft })
                {
                    long offset = alignment == CausalAlignment.TopLeft ? 0 : (long)keys - queries;
                    Check(CausalMask.Create(alignment, frame), nq, nk, (i, j) => j < keys && j <= i + offset, exact: true, $"causal {alignment}", b);
                    Check(WindowMask.Create(new AttentionWindow(4, 2), alignment, frame), nq, nk,
                          (i, j) => j < keys && j >= i + offset - 4 && j <= i + offset + 2, exact: true, $"window (4, 2) {alignment}", b);
                    var all = new And<And<LengthsMask, CausalMask>, WindowMask>(
                        new(LengthsMask.Create(frame), CausalMask.Create(alignment, frame)), WindowMask.Create(new AttentionWindow(6, 0), alignment, frame));
                    Check(all, nq, nk, (i, j) => i < queries && j < keys && j <= i + offset && j >= i + offset - 6, exact: false, $"lengths AND causal AND window (6, 0) {alignment}", b);
                }
            }
        }
    }

    [Fact]
    public void And_CombinesTheStaticFacts()
    {
        Assert.True(And<NoMask, NoMask>.HidesNothing);
        Assert.False(And<NoMask, CausalMask>.HidesNothing);
        Assert.True(And<CausalMask, WindowTestMask>.IsRange);
        Assert.False(And<CausalMask, WindowTestMask>.StartsAtZero);
        Assert.True(And<CausalMask, NoMask>.StartsAtZero);
        Assert.False(And<CausalMask, StripeTestMask>.IsRange);
        Assert.False(And<And<NoMask, CausalMask>, StripeTestMask>.IsRange);
    }

    [Fact]
    public void And_OfDisjointRanges_IsEmptyEverywhere()
    {
        // Top-left causal sees j ≤ i; a window placed right of the diagonal sees j ≥ i + 5: nothing is left.
        const int nq = 40, nk = 40;
        var mask = new And<CausalMask, WindowTestMask>(CausalMask.TopLeft(nk), new WindowTestMask(nq, nk, -5, 50));
        for (int i = 0; i < nq; i++)
        {
            Assert.Equal(0, mask.Keys(i).Count);
        }

        Check(mask, nq, nk, (_, _) => false, exact: false, "disjoint");
    }

    [Fact]
    public void KeyRange_Within_ClampsToTheTile()
    {
        var range = new KeyRange(10, 20);
        Assert.Equal((0, 8), Pair(range.Within(12, 8)));
        Assert.Equal((0, 0), Pair(range.Within(20, 4)));
        Assert.Equal((4, 4), Pair(range.Within(0, 4)));
        Assert.Equal((2, 12), Pair(range.Within(8, 64)));

        static (int, int) Pair(KeyRange r) => (r.Start, r.End);
    }

    private static void Check<TMask>(TMask mask, int nq, int nk, Func<int, int, bool> rule, bool exact, string name, int batch = 0)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        string shape = string.Create(CultureInfo.InvariantCulture, $"{name} nq={nq} nk={nk} batch={batch}");
        mask = mask.ForHead(batch, 0);
        for (int i = 0; i < nq; i++)
        {
            KeyRange keys = mask.Keys(i);
            Assert.True(keys.Start >= 0 && keys.Start <= keys.End && keys.End <= nk, $"{shape}: row {i} range [{keys.Start}, {keys.End}) outside [0, {nk}]");
            for (int j = 0; j < nk; j++)
            {
                bool inside = j >= keys.Start && j < keys.End;
                bool visible = rule(i, j);
                Assert.False(visible && !inside, $"{shape}: row {i} sees key {j} outside its range [{keys.Start}, {keys.End})");
                if (inside)
                {
                    Assert.True(visible == (TMask.IsRange || mask.IsVisible(i, j)), $"{shape}: row {i} key {j}: mask says {!visible}, rule says {visible}");
                }

                if (TMask.StartsAtZero && TMask.IsRange)
                {
                    Assert.Equal(0, keys.Count == 0 ? 0 : keys.Start);
                }
            }
        }

        foreach (int rows in s_rowTiles)
        {
            foreach (int keyTile in s_keyTiles)
            {
                for (int i0 = 0; i0 < nq; i0 += rows)
                {
                    int r = Math.Min(rows, nq - i0);
                    for (int j0 = 0; j0 < nk; j0 += keyTile)
                    {
                        int c = Math.Min(keyTile, nk - j0);
                        int seen = 0;
                        for (int i = i0; i < i0 + r; i++)
                        {
                            for (int j = j0; j < j0 + c; j++)
                            {
                                seen += rule(i, j) ? 1 : 0;
                            }
                        }

                        TileVisibility tile = mask.Classify(i0, r, j0, c);
                        string where = string.Create(CultureInfo.InvariantCulture, $"{shape}: tile rows [{i0}, {i0 + r}) × keys [{j0}, {j0 + c}) with {seen} of {r * c} visible");
                        if (tile == TileVisibility.Full)
                        {
                            Assert.True(seen == r * c, $"{where} classified Full");
                        }
                        else if (tile == TileVisibility.Empty)
                        {
                            Assert.True(seen == 0, $"{where} classified Empty");
                        }
                        else if (exact)
                        {
                            Assert.True(seen > 0 && seen < r * c, $"{where} classified Partial");
                        }
                    }
                }
            }
        }
    }
}
