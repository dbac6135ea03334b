using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace SelfAttention.Kernels;

/// <summary>A function applied in place to a run of finished output values of <see cref="PackedGemm"/> (an activation).</summary>
internal interface IRowEpilogue
{
    /// <summary>Applies the function to <c>values[0 .. count)</c> in place.</summary>
    static abstract unsafe void Apply(float* values, int count);
}

/// <summary>No epilogue.</summary>
internal readonly struct NoEpilogue : IRowEpilogue
{
    public static unsafe void Apply(float* values, int count)
    {
    }
}

/// <summary>
/// The right-hand matrix of a product, packed once into <see cref="Gemm"/>'s panel layout at this process's vector
/// width, for weights that every call multiplies by (a layer's projections): packing B costs about as much as
/// streaming it, which at a few rows is most of the product.
/// <para>
/// Layout: K blocks of <see cref="Gemm.KBlock"/> rows; inside block <c>kb</c> (rows <c>k0 … k0 + kc</c>), panel p
/// holds <c>kc × Panel</c> floats, <c>packed[k0·PaddedColumns + p·kc·Panel + kk·Panel + t] = B[k0 + kk][p·Panel + t]</c>,
/// zero past column N. The array is pinned, so kernels hold pointers into it without fixing it per call.
/// </para>
/// </summary>
internal sealed unsafe class PackedMatrix
{
    /// <summary>
    /// Floats of slack before the first packed float, so that it starts on a 64-byte line: every panel row is then whole
    /// cache lines, and no vector load of B straddles two (measured: 7–10 % of the micro-kernel's rate at 16 and 128
    /// rows of MiniLM's projections, packed data aligned against 4 bytes off).
    /// </summary>
    public const int AlignmentFloats = 64 / sizeof(float);

    private readonly float[] _data;
    private readonly int _start;

    private PackedMatrix(int rows, int columns, int panel)
    {
        Rows = rows;
        Columns = columns;
        Panel = panel;
        Panels = (columns + panel - 1) / panel;
        long length = (long)rows * Panels * panel;
        Debug.Assert(length <= MaxLength, "the caller bounds the padded size");

        // Pinned, so the alignment computed here holds for the array's lifetime.
        _data = GC.AllocateArray<float>((int)Math.Max(1, length) + AlignmentFloats, pinned: true);
        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));
        _start = (int)((64 - (address & 63)) & 63) / sizeof(float);
    }

    /// <summary>The most floats a packed matrix can hold: one array, less the alignment slack.</summary>
    public const int MaxLength = 0x7FFFFFC7 - AlignmentFloats;

    /// <summary>K: rows of B, the inner dimension of the product.</summary>
    public int Rows { get; }

    /// <summary>N: columns of B and of the product.</summary>
    public int Columns { get; }

    /// <summary>Floats per panel row: 4 vectors of the width this matrix was packed for.</summary>
    public int Panel { get; }

    /// <summary>Column panels, the last zero-padded.</summary>
    public int Panels { get; }

    /// <summary>N rounded up to whole panels.</summary>
    public int PaddedColumns => Panels * Panel;

    /// <summary>The first packed float.</summary>
    public float* Data => (float*)Unsafe.AsPointer(ref _data[_start]);

    /// <summary>The panel width of the widest accelerated vector, which <see cref="PackedGemm.Multiply"/> uses too.</summary>
    public static int PanelForThisProcess =>
        4 * (Vector512.IsHardwareAccelerated ? Vector512<float>.Count
           : Vector256.IsHardwareAccelerated ? Vector256<float>.Count
           : Vector128.IsHardwareAccelerated ? Vector128<float>.Count : 1);

    /// <summary>Packs <c>b[k × n]</c> (row stride <paramref name="ldb"/>); the caller has checked the sizes.</summary>
    public static PackedMatrix Pack(ReadOnlySpan<float> b, int ldb, int k, int n)
    {
        Debug.Assert(k >= 0 && n >= 0 && ldb >= n && (k == 0 || b.Length >= (long)(k - 1) * ldb + n));
        var packed = new PackedMatrix(k, n, PanelForThisProcess);
        int panel = packed.Panel, padded = packed.PaddedColumns;
        Span<float> data = packed._data.AsSpan(packed._start);
        for (int k0 = 0; k0 < k; k0 += Gemm.KBlock)
        {
            int kc = Math.Min(Gemm.KBlock, k - k0);
            for (int p = 0; p < packed.Panels; p++)
            {
                int j0 = p * panel, cols = Math.Min(panel, n - j0);
                for (int kk = 0; kk < kc; kk++)
                {
                    Span<float> destination = data.Slice(k0 * padded + p * kc * panel + kk * panel, panel);
                    b.Slice((k0 + kk) * ldb + j0, cols).CopyTo(destination);
                    destination[cols..].Clear();
                }
            }
        }

        return packed;
    }
}

/// <summary>
/// <c>C = epilogue(A·B + bias)</c> with B packed once (<see cref="PackedMatrix"/>), on the register tiles of
/// <see cref="Gemm"/> (<see cref="Gemm.PanelRows"/>), parallel over column slabs of panels. Every element of C is
/// accumulated in the same order whatever the slabs and threads, so results are bit-identical for every degree of
/// parallelism. The epilogue runs on each panel's columns right after their last K block, while they are in cache.
/// </summary>
internal static unsafe class PackedGemm
{
    private struct Job
    {
        public float* A, Bias, C;
        public PackedMatrix B;
        public nint Lda, Ldc;
        public int M, PanelsPerItem, Slabs, RowsPerItem;
    }

    /// <summary>
    /// The fewest rows a work item takes when the rows are split too: each item reads its slab's panels of B again, which
    /// costs little only when that read is shared by many row tiles.
    /// </summary>
    private const int MinRowsPerItem = 96;

    /// <summary>
    /// C[m × n] = epilogue(A[m × k]·B + bias[n]); a: row stride <paramref name="lda"/>, c: row stride
    /// <paramref name="ldc"/>, bias: [n] or empty. C must not overlap A or bias. Runs on up to <paramref name="degree"/>
    /// threads (−1: one per processor).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TEpilogue>(ReadOnlySpan<float> a, int lda, PackedMatrix b, ReadOnlySpan<float> bias, Span<float> c, int ldc, int m, int degree)
        where TEpilogue : struct, IRowEpilogue
    {
        Debug.Assert(b.Panel == PackedMatrix.PanelForThisProcess, "packed at another vector width");
        Debug.Assert(m == 0 || (a.Length >= (long)(m - 1) * lda + b.Rows && c.Length >= (long)(m - 1) * ldc + b.Columns));
        Debug.Assert(bias.IsEmpty || bias.Length >= b.Columns);
        if (m == 0 || b.Columns == 0)
        {
            return;
        }

        int threads = degree == -1 ? Environment.ProcessorCount : Math.Max(1, degree);

        // Two items per thread balance uneven finishing. An item is a slab of at least one panel; when there are fewer
        // slabs than that (a narrow product: 384 columns are six panels, which two threads would split 2 : 1) and many
        // rows, the rows are split too, in chunks of whole row tiles. Each element of C is still made by one item, in the
        // same order, so the bits do not depend on the split.
        int wanted = threads == 1 ? 1 : 2 * threads;
        int slabs = Math.Min(b.Panels, wanted);
        int panelsPerItem = (b.Panels + slabs - 1) / slabs;
        slabs = (b.Panels + panelsPerItem - 1) / panelsPerItem;
        int chunks = slabs >= wanted ? 1 : Math.Max(1, Math.Min((wanted + slabs - 1) / slabs, m / MinRowsPerItem));
        int rowsPerItem = (m + chunks - 1) / chunks;
        rowsPerItem = (rowsPerItem + Gemm.RowsPerTile - 1) / Gemm.RowsPerTile * Gemm.RowsPerTile;
        chunks = (m + rowsPerItem - 1) / rowsPerItem;
        int items = slabs * chunks;
        fixed (float* pa = a, pbias = bias, pc = c)
        {
            var job = new Job
            {
                A = pa, Bias = bias.IsEmpty ? null : pbias, C = pc, B = b, Lda = lda, Ldc = ldc, M = m,
                PanelsPerItem = panelsPerItem, Slabs = slabs, RowsPerItem = rowsPerItem,
            };
            if (Vector512.IsHardwareAccelerated) WorkerPool.RunJob(Unsafe.AsPointer(ref job), items, threads, &RunSlab<Vector512<float>, Vector512Ops, TEpilogue>);
            else if (Vector256.IsHardwareAccelerated) WorkerPool.RunJob(Unsafe.AsPointer(ref job), items, threads, &RunSlab<Vector256<float>, Vector256Ops, TEpilogue>);
            else if (Vector128.IsHardwareAccelerated) WorkerPool.RunJob(Unsafe.AsPointer(ref job), items, threads, &RunSlab<Vector128<float>, Vector128Ops, TEpilogue>);
            else WorkerPool.RunJob(Unsafe.AsPointer(ref job), items, threads, &RunSlab<float, ScalarOps, TEpilogue>);
        }
    }

    // One item: slab item % Slabs (panels [slab·PanelsPerItem, …) of C), row chunk item / Slabs, every K block.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunSlab<TV, TOps, TEpilogue>(void* state, int item)
        where TV : struct
        where TOps : struct, IFloatVector<TV>
        where TEpilogue : struct, IRowEpilogue
    {
        ref Job job = ref Unsafe.AsRef<Job>(state);
        PackedMatrix b = job.B;
        int panel = b.Panel, n = b.Columns, k = b.Rows, m = job.M;
        int slab = item % job.Slabs, first = item / job.Slabs * job.RowsPerItem;
        m = Math.Min(m - first, job.RowsPerItem);
        int p0 = slab * job.PanelsPerItem, p1 = Math.Min(b.Panels, p0 + job.PanelsPerItem);
        int c0 = p0 * panel, c1 = Math.Min(n, p1 * panel);
        nint lda = job.Lda, ldc = job.Ldc;
        float* a = job.A + first * lda, c = job.C + first * ldc;

        // With no K at all, C is the bias (or zero) and the epilogue.
        if (k == 0)
        {
            for (int i = 0; i < m; i++)
            {
                var row = new Span<float>(c + i * ldc + c0, c1 - c0);
                if (job.Bias == null)
                {
                    row.Clear();
                }
                else
                {
                    new ReadOnlySpan<float>(job.Bias + c0, c1 - c0).CopyTo(row);
                }

                TEpilogue.Apply(c + i * ldc + c0, c1 - c0);
            }

            return;
        }

        // The first K block's sums start from the bias (or zeros), the later blocks' from C (Gemm.PanelRows): C is not
        // set to the bias in a pass of its own first (measured on the Intel VM, 2026-12-06: that pass was 1.5 % of
        // all-MiniLM-L6-v2's 8 × 128 forward pass on one thread and 4 % on two, its writes missing the caches).
        float* edge = stackalloc float[Gemm.RowsPerTile * 64];   // [RowsPerTile][panel], panel ≤ 64 floats
        Debug.Assert(panel <= 64);
        for (int k0 = 0; k0 < k; k0 += Gemm.KBlock)
        {
            int kc = Math.Min(Gemm.KBlock, k - k0);
            bool last = k0 + kc == k;
            float* block = b.Data + (nint)k0 * b.PaddedColumns;
            for (int p = p0; p < p1; p++)
            {
                int j0 = p * panel, cols = Math.Min(panel, n - j0);
                Gemm.PanelRows<TV, TOps>(a + k0, lda, block + (nint)p * kc * panel, kc, panel, k0 == 0, job.Bias == null ? null : job.Bias + j0,
                                         c + j0, ldc, m, cols, edge);
                if (last)
                {
                    for (int i = 0; i < m; i++)
                    {
                        TEpilogue.Apply(c + i * ldc + j0, cols);
                    }
                }
            }
        }
    }
}
