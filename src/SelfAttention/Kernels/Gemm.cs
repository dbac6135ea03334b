using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace SelfAttention.Kernels;

/// <summary>
/// Single-precision matrix multiply for the projections of a transformer layer: <c>C = A·B (+ bias)</c>, row-major,
/// with leading dimensions. TensorPrimitives has no GEMM, and MathNet's managed one is slow.
/// <para>
/// Blocking: B is packed, one K block (<see cref="KBlock"/> rows) at a time, into column panels of <c>4·lanes</c>
/// (zero-padded past N), <c>Bp[panel][k][4·lanes]</c>, so the micro-kernel streams it contiguously from L1/L2. The
/// micro-kernel keeps a 6-row × 4-vector tile of C in 24 accumulators and broadcasts A from its natural layout: each
/// loaded B vector feeds six FMAs. Each K block's sums start from a row-strided source: C itself, or for the first block
/// the bias (or zeros) as one row of stride 0, so C is not set to the bias in a pass of its own (only the few-row path,
/// which streams B, does that). So the micro-kernels are straight loads, FMAs and stores with no calls (a call would
/// clobber every vector register).
/// On 16-register ISAs (x64 without AVX-512) the tile is 6 × 2 vectors. Rows past a multiple of 6 take a one-row kernel;
/// a panel at the right edge of C runs on a zero-padded copy of its rows that is copied back, so nothing past N is written.
/// While a panel is computed, its row tiles prefetch the next panel into L2, spread over all of them (tile t fetches
/// its share a few cache lines per step of its loop), so the memory streams the next panel during the whole of this
/// one's work instead of stalling the first tile of every panel: with few rows the weights come from memory (a model's
/// do not fit in cache). Measured on all-MiniLM-L6-v2's whole forward pass, alternating in one process, against no
/// prefetch: 1.37× at 16 tokens, 1.34× at 32, 1.09× at 128; the whole next panel fetched by the first tile alone
/// gained only 1.04–1.05×, because that tile is already waiting on memory for its own panel.
/// </para>
/// Scratch: the packed B block, <c>ceil(N / (4·lanes)) · KBlock · 4·lanes</c> floats, then a 6 × 4·lanes edge tile.
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Rows of B per packed block: a panel (KBlock × 4·lanes) stays in L1/L2 while every row tile uses it.</summary>
    public const int KBlock = 256;

    /// <summary>A panel's worth of zeros (a panel is at most 64 floats), pinned and held for the process's lifetime: the start of a first K block without bias.</summary>
    private static readonly float[] s_zeroPanel = GC.AllocateArray<float>(64, pinned: true);

    private static float* ZeroPanel => (float*)Unsafe.AsPointer(ref s_zeroPanel[0]);

    /// <summary>Rows of C per register tile.</summary>
    internal const int RowsPerTile = 6;

    /// <summary>Floats per 64-byte cache line: the unit of the next panel's prefetch.</summary>
    private const int LineFloats = 64 / sizeof(float);

    private static bool FewRegisters => !Vector512.IsHardwareAccelerated && !AdvSimd.Arm64.IsSupported;

    /// <summary>Scratch floats for a multiply with <paramref name="n"/> columns at this width.</summary>
    public static int ScratchLength<TV, TOps>(int n) where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int panel = 4 * TOps.Count, columns = Math.Min(n, NBlock);
        return (columns + panel - 1) / panel * panel * KBlock + RowsPerTile * panel;
    }

    /// <summary>
    /// Columns of C per packed pass: wider products run in column blocks, so the packed B block stays at most
    /// NBlock·KBlock floats (4 MiB) whatever N is (a layer's widest projection, 3·4096, takes three passes).
    /// </summary>
    public const int NBlock = 4096;

    /// <summary>
    /// C[m × n] = A[m × k]·B[k × n] + bias[n]. a: row stride <paramref name="lda"/>; b: row stride <paramref name="ldb"/>;
    /// c: row stride <paramref name="ldc"/>; bias: [n] or null. C must not overlap A, B or bias. scratch: <see cref="ScratchLength{TV, TOps}"/> floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* bias, float* c, nint ldc,
                                          int m, int n, int k, float* scratch)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (m < RowsPerTile || k == 0)
        {
            // A few rows (a decode step): packing B would copy all of it for almost no reuse, so C is set to the bias
            // and B's rows are streamed in place, four per pass over each row of C. With no K, C is the bias.
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(c + i * ldc, n);
                if (bias == null)
                {
                    row.Clear();
                }
                else
                {
                    new ReadOnlySpan<float>(bias, n).CopyTo(row);
                }
            }

            StreamRows<TV, TOps>(a, lda, b, ldb, c, ldc, m, n, k);
            return;
        }

        for (int n0 = 0; n0 < n; n0 += NBlock)
        {
            MultiplyColumns<TV, TOps>(a, lda, b + n0, ldb, bias == null ? null : bias + n0, c + n0, ldc, m, Math.Min(NBlock, n - n0), k, scratch);
        }
    }

    /// <summary>
    /// C[m × n] = A[m × k]·B[k × n] + bias[n] for n ≤ <see cref="NBlock"/> and k ≥ 1: pack each K block of B, then the row
    /// tiles, the first block's sums starting from the bias (or zeros) as one row of stride 0, as in the packed GEMM.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyColumns<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* bias, float* c, nint ldc, int m, int n, int k, float* scratch)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, panel = 4 * w;
        int panels = (n + panel - 1) / panel;
        float* edge = scratch + panels * panel * KBlock;   // [RowsPerTile][panel]
        for (int k0 = 0; k0 < k; k0 += KBlock)
        {
            int kc = Math.Min(KBlock, k - k0);
            PackB(b + k0 * ldb, ldb, n, kc, panel, scratch);
            for (int p = 0; p < panels; p++)
            {
                int j0 = p * panel, cols = Math.Min(panel, n - j0);
                PanelRows<TV, TOps>(a + k0, lda, scratch + p * KBlock * panel, kc, panel, k0 == 0, bias == null ? null : bias + j0, c + j0, ldc, m, cols, edge);
            }
        }
    }

    /// <summary>
    /// One panel of C for one K block: <c>C[m × cols] = I + A[m × kc]·Bp[kc × panel]</c>, a: the block's first column of A
    /// (row stride <paramref name="lda"/>), c: the panel's first column of C. I, where the sums start: C itself, or for
    /// the <paramref name="first"/> K block the panel's <paramref name="bias"/> (or zeros when null) as one row of stride
    /// 0, so that C need not be set to the bias in a pass of its own before the product. Six-row tiles, then four rows
    /// (32-register ISAs), pairs and a single row; an edge panel (cols &lt; panel) runs on a zero-padded copy of its rows in <paramref name="edge"/> ([RowsPerTile][panel]),
    /// copied back, so nothing past the panel's columns is written. Shared by the per-call and the packed GEMM. The tiles
    /// prefetch the <c>kc × panel</c> floats after <paramref name="bp"/> into L2, the next panel of a packed matrix
    /// (past its last panel the fetches are harmless: a prefetch never faults).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PanelRows<TV, TOps>(float* a, nint lda, float* bp, int kc, int panel, bool first, float* bias, float* c, nint ldc, int m, int cols, float* edge)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        float* init = !first ? c : bias == null ? ZeroPanel : bias;
        nint initStride = first ? 0 : ldc;
        int i = 0;

        // The next panel's kc·panel floats are fetched into L2 while this one is computed, spread over the panel's
        // tiles: tile t fetches `step` floats (whole cache lines) per step of its loop, from t·kc·step on.
        int rest = m % RowsPerTile;
        int tiles = Math.Max(1, m / RowsPerTile + (!FewRegisters && rest >= 4 ? 1 + (rest - 3) / 2 : (rest + 1) / 2));
        int step = Math.Min(Math.Max(panel, LineFloats), Math.Max(LineFloats, (panel / tiles + LineFloats - 1) / LineFloats * LineFloats));
        float* next = bp + kc * panel;
        long nextLength = (long)kc * panel;
        float* Share(int t) => (long)t * kc * step >= nextLength ? null : next + (nint)t * kc * step;
        int t = 0;
        for (; i + RowsPerTile <= m; i += RowsPerTile, t++)
        {
            float* fetch = Share(t);

            // A full panel works on C in place; the edge panel on a zero-padded copy of its rows' starting sums.
            float* from = init + i * initStride, tile = c + i * ldc;
            nint fromStride = initStride, tileStride = ldc;
            if (cols < panel)
            {
                CopyRows(from, initStride, edge, panel, RowsPerTile, cols, panel);
                from = tile = edge;
                fromStride = tileStride = panel;
            }

            if (FewRegisters)
            {
                Tile6HalfWidth<TV, TOps>(a + i * lda, lda, bp, kc, panel, from, fromStride, tile, tileStride, fetch, step);
                Tile6HalfWidth<TV, TOps>(a + i * lda, lda, bp + 2 * w, kc, panel, from + 2 * w, fromStride, tile + 2 * w, tileStride, null, step);
            }
            else
            {
                Tile<TV, TOps, Six>(a + i * lda, lda, bp, kc, panel, from, fromStride, tile, tileStride, fetch, step);
            }

            if (cols < panel)
            {
                CopyRows(edge, panel, c + i * ldc, ldc, RowsPerTile, cols, cols);
            }
        }

        // The last one to five rows: four at once where the registers hold it, then pairs, then a single row. A single
        // row has four accumulators, one per vector of the panel, each waiting on its own previous FMA, so it runs at
        // about half the FMA rate; a pair has eight, and reads the panel's B once per two rows; four rows have sixteen
        // and read B once for four (16 rows, a short sentence, are 6 + 6 + 4: three reads of B, not four).
        for (; i < m; t++)
        {
            float* fetch = Share(t);
            int rows = !FewRegisters && m - i >= 4 ? 4 : m - i >= 2 ? 2 : 1;
            float* from = init + i * initStride, tile = c + i * ldc;
            nint fromStride = initStride, tileStride = ldc;
            if (cols < panel)
            {
                CopyRows(from, initStride, edge, panel, rows, cols, panel);
                from = tile = edge;
                fromStride = tileStride = panel;
            }

            if (rows == 4)
            {
                Tile<TV, TOps, Four>(a + i * lda, lda, bp, kc, panel, from, fromStride, tile, tileStride, fetch, step);
            }
            else if (rows == 2)
            {
                Tile<TV, TOps, Two>(a + i * lda, lda, bp, kc, panel, from, fromStride, tile, tileStride, fetch, step);
            }
            else
            {
                Tile<TV, TOps, One>(a + i * lda, lda, bp, kc, panel, from, fromStride, tile, tileStride, fetch, step);
            }

            if (cols < panel)
            {
                CopyRows(edge, panel, c + i * ldc, ldc, rows, cols, cols);
            }

            i += rows;
        }
    }

    // C[m × n] += A[m × k]·B[k × n] without packing: c_i += Σ_kk a[i][kk]·B[kk][:], four rows of B per accumulator pass.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void StreamRows<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int m, int n, int k)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int kk = 0;
        for (; kk + 4 <= k; kk += 4)
        {
            for (int i = 0; i < m; i++)
            {
                float* ai = a + i * lda + kk;
                RowKernels.MultiplyAddFourRows<TV, TOps>(ref b[kk * ldb], ldb, ai[0], ai[1], ai[2], ai[3], ref c[i * ldc], n);
            }
        }

        for (; kk < k; kk++)
        {
            for (int i = 0; i < m; i++)
            {
                RowKernels.MultiplyAddRow<TV, TOps>(ref b[kk * ldb], a[i * lda + kk], ref c[i * ldc], n);
            }
        }
    }

    // Copies rows × cols floats between strided buffers and zero-fills each destination row from cols to width.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRows(float* source, nint sourceStride, float* destination, nint destinationStride, int rows, int cols, int width)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(source + r * sourceStride, cols).CopyTo(new Span<float>(destination + r * destinationStride, cols));
            new Span<float>(destination + r * destinationStride + cols, width - cols).Clear();
        }
    }

    // Bp[panel p][kk][t] = B[k0 + kk][p·panel + t], zero past column n.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(float* b, nint ldb, int n, int kc, int panel, float* packed)
    {
        int panels = (n + panel - 1) / panel;
        for (int p = 0; p < panels; p++)
        {
            int j0 = p * panel, cols = Math.Min(panel, n - j0);
            float* destination = packed + p * KBlock * panel;
            for (int kk = 0; kk < kc; kk++)
            {
                float* row = b + kk * ldb + j0;
                float* d = destination + kk * panel;
                new ReadOnlySpan<float>(row, cols).CopyTo(new Span<float>(d, cols));
                if (cols < panel)
                {
                    new Span<float>(d + cols, panel - cols).Clear();
                }
            }
        }
    }

    // C[rows × 4·lanes] += A[rows × kc]·Bp[kc × 4·lanes], rows = TRows (1, 2, 4 or 6); c has row stride ldc and every
    // column of the tile exists. Each element accumulates over kk in order, whatever the height, so a row's bits do not
    // depend on the tile it falls in. Six rows hold 24 accumulators, four B vectors and the broadcast (29 registers:
    // 32-register ISAs); four rows 21; two rows 14 and one row 9 fit 16-register ISAs too. A single row's four
    // accumulators each wait on their own previous FMA, so it runs at about half the FMA rate.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile<TV, TOps, TRows>(float* a, nint lda, float* bp, int kc, int panel, float* init, nint initStride, float* c, nint ldc, float* next, int step)
        where TV : struct where TOps : struct, IFloatVector<TV> where TRows : struct, ICount
    {
        int rows = TRows.Value;
        nuint w1 = (nuint)TOps.Count, w2 = 2 * w1, w3 = 3 * w1;
        float* a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        float* c0 = c, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        float* i0 = init, i1 = i0 + initStride, i2 = i1 + initStride, i3 = i2 + initStride, i4 = i3 + initStride, i5 = i4 + initStride;
        TV x00 = TOps.Load(ref i0[0], 0), x01 = TOps.Load(ref i0[0], w1), x02 = TOps.Load(ref i0[0], w2), x03 = TOps.Load(ref i0[0], w3);
        TV x10 = default, x11 = default, x12 = default, x13 = default, x20 = default, x21 = default, x22 = default, x23 = default;
        TV x30 = default, x31 = default, x32 = default, x33 = default, x40 = default, x41 = default, x42 = default, x43 = default;
        TV x50 = default, x51 = default, x52 = default, x53 = default;
        if (rows > 1)
        {
            x10 = TOps.Load(ref i1[0], 0); x11 = TOps.Load(ref i1[0], w1); x12 = TOps.Load(ref i1[0], w2); x13 = TOps.Load(ref i1[0], w3);
        }

        if (rows > 2)
        {
            x20 = TOps.Load(ref i2[0], 0); x21 = TOps.Load(ref i2[0], w1); x22 = TOps.Load(ref i2[0], w2); x23 = TOps.Load(ref i2[0], w3);
            x30 = TOps.Load(ref i3[0], 0); x31 = TOps.Load(ref i3[0], w1); x32 = TOps.Load(ref i3[0], w2); x33 = TOps.Load(ref i3[0], w3);
        }

        if (rows > 4)
        {
            x40 = TOps.Load(ref i4[0], 0); x41 = TOps.Load(ref i4[0], w1); x42 = TOps.Load(ref i4[0], w2); x43 = TOps.Load(ref i4[0], w3);
            x50 = TOps.Load(ref i5[0], 0); x51 = TOps.Load(ref i5[0], w1); x52 = TOps.Load(ref i5[0], w2); x53 = TOps.Load(ref i5[0], w3);
        }

        float* bk = bp;
        for (int kk = 0; kk < kc; kk++, bk += panel)
        {
            if (next != null)
            {
                Prefetch.ToL2(next + kk * step, step);
            }

            TV b0 = TOps.Load(ref bk[0], 0), b1 = TOps.Load(ref bk[0], w1), b2 = TOps.Load(ref bk[0], w2), b3 = TOps.Load(ref bk[0], w3);
            TV s = TOps.Create(a0[kk]);
            x00 = TOps.MultiplyAdd(s, b0, x00); x01 = TOps.MultiplyAdd(s, b1, x01); x02 = TOps.MultiplyAdd(s, b2, x02); x03 = TOps.MultiplyAdd(s, b3, x03);
            if (rows > 1)
            {
                s = TOps.Create(a1[kk]);
                x10 = TOps.MultiplyAdd(s, b0, x10); x11 = TOps.MultiplyAdd(s, b1, x11); x12 = TOps.MultiplyAdd(s, b2, x12); x13 = TOps.MultiplyAdd(s, b3, x13);
            }

            if (rows > 2)
            {
                s = TOps.Create(a2[kk]);
                x20 = TOps.MultiplyAdd(s, b0, x20); x21 = TOps.MultiplyAdd(s, b1, x21); x22 = TOps.MultiplyAdd(s, b2, x22); x23 = TOps.MultiplyAdd(s, b3, x23);
                s = TOps.Create(a3[kk]);
                x30 = TOps.MultiplyAdd(s, b0, x30); x31 = TOps.MultiplyAdd(s, b1, x31); x32 = TOps.MultiplyAdd(s, b2, x32); x33 = TOps.MultiplyAdd(s, b3, x33);
            }

            if (rows > 4)
            {
                s = TOps.Create(a4[kk]);
                x40 = TOps.MultiplyAdd(s, b0, x40); x41 = TOps.MultiplyAdd(s, b1, x41); x42 = TOps.MultiplyAdd(s, b2, x42); x43 = TOps.MultiplyAdd(s, b3, x43);
                s = TOps.Create(a5[kk]);
                x50 = TOps.MultiplyAdd(s, b0, x50); x51 = TOps.MultiplyAdd(s, b1, x51); x52 = TOps.MultiplyAdd(s, b2, x52); x53 = TOps.MultiplyAdd(s, b3, x53);
            }
        }

        TOps.Store(x00, ref c0[0], 0); TOps.Store(x01, ref c0[0], w1); TOps.Store(x02, ref c0[0], w2); TOps.Store(x03, ref c0[0], w3);
        if (rows > 1)
        {
            TOps.Store(x10, ref c1[0], 0); TOps.Store(x11, ref c1[0], w1); TOps.Store(x12, ref c1[0], w2); TOps.Store(x13, ref c1[0], w3);
        }

        if (rows > 2)
        {
            TOps.Store(x20, ref c2[0], 0); TOps.Store(x21, ref c2[0], w1); TOps.Store(x22, ref c2[0], w2); TOps.Store(x23, ref c2[0], w3);
            TOps.Store(x30, ref c3[0], 0); TOps.Store(x31, ref c3[0], w1); TOps.Store(x32, ref c3[0], w2); TOps.Store(x33, ref c3[0], w3);
        }

        if (rows > 4)
        {
            TOps.Store(x40, ref c4[0], 0); TOps.Store(x41, ref c4[0], w1); TOps.Store(x42, ref c4[0], w2); TOps.Store(x43, ref c4[0], w3);
            TOps.Store(x50, ref c5[0], 0); TOps.Store(x51, ref c5[0], w1); TOps.Store(x52, ref c5[0], w2); TOps.Store(x53, ref c5[0], w3);
        }
    }

    // The six-row tile for two vectors of the panel (12 accumulators), for 16-register ISAs; bp and c point at the half.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile6HalfWidth<TV, TOps>(float* a, nint lda, float* bp, int kc, int panel, float* init, nint initStride, float* c, nint ldc, float* next, int step)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint w1 = (nuint)TOps.Count;
        float* a0 = a, a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda, a4 = a3 + lda, a5 = a4 + lda;
        float* c0 = c, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc, c4 = c3 + ldc, c5 = c4 + ldc;
        float* i0 = init, i1 = i0 + initStride, i2 = i1 + initStride, i3 = i2 + initStride, i4 = i3 + initStride, i5 = i4 + initStride;
        TV x00 = TOps.Load(ref i0[0], 0), x01 = TOps.Load(ref i0[0], w1), x10 = TOps.Load(ref i1[0], 0), x11 = TOps.Load(ref i1[0], w1);
        TV x20 = TOps.Load(ref i2[0], 0), x21 = TOps.Load(ref i2[0], w1), x30 = TOps.Load(ref i3[0], 0), x31 = TOps.Load(ref i3[0], w1);
        TV x40 = TOps.Load(ref i4[0], 0), x41 = TOps.Load(ref i4[0], w1), x50 = TOps.Load(ref i5[0], 0), x51 = TOps.Load(ref i5[0], w1);
        float* bk = bp;
        for (int kk = 0; kk < kc; kk++, bk += panel)
        {
            if (next != null)
            {
                Prefetch.ToL2(next + kk * step, step);
            }

            TV b0 = TOps.Load(ref bk[0], 0), b1 = TOps.Load(ref bk[0], w1);
            TV s = TOps.Create(a0[kk]);
            x00 = TOps.MultiplyAdd(s, b0, x00); x01 = TOps.MultiplyAdd(s, b1, x01);
            s = TOps.Create(a1[kk]);
            x10 = TOps.MultiplyAdd(s, b0, x10); x11 = TOps.MultiplyAdd(s, b1, x11);
            s = TOps.Create(a2[kk]);
            x20 = TOps.MultiplyAdd(s, b0, x20); x21 = TOps.MultiplyAdd(s, b1, x21);
            s = TOps.Create(a3[kk]);
            x30 = TOps.MultiplyAdd(s, b0, x30); x31 = TOps.MultiplyAdd(s, b1, x31);
            s = TOps.Create(a4[kk]);
            x40 = TOps.MultiplyAdd(s, b0, x40); x41 = TOps.MultiplyAdd(s, b1, x41);
            s = TOps.Create(a5[kk]);
            x50 = TOps.MultiplyAdd(s, b0, x50); x51 = TOps.MultiplyAdd(s, b1, x51);
        }

        TOps.Store(x00, ref c0[0], 0); TOps.Store(x01, ref c0[0], w1); TOps.Store(x10, ref c1[0], 0); TOps.Store(x11, ref c1[0], w1);
        TOps.Store(x20, ref c2[0], 0); TOps.Store(x21, ref c2[0], w1); TOps.Store(x30, ref c3[0], 0); TOps.Store(x31, ref c3[0], w1);
        TOps.Store(x40, ref c4[0], 0); TOps.Store(x41, ref c4[0], w1); TOps.Store(x50, ref c5[0], 0); TOps.Store(x51, ref c5[0], w1);
    }
}
