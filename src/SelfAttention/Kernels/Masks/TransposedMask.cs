using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// A dense mask (additive, or boolean as its 0/−∞ biases) copied once per call in the order the tiled kernel reads it:
/// per block of <c>bq</c> query rows (the kernel's query block at the call's width), key-major, element (i, j) of a
/// matrix at <c>(i / bq)·bq·KeyLength + j·bq + i mod bq</c>. The tile holds Sᵀ (lanes are query rows), so a row-major
/// mask must otherwise be transposed in registers for every tile that reads it, once per head and sequence that shares
/// it; from the copy a tile's mask is one contiguous run of <c>bq·keys</c> floats, a load and an add per vector. Made
/// only where a matrix serves several (batch, head) pairs (a mask broadcast over heads or sequences) and is small
/// enough (<see cref="MaxFloats"/>); otherwise the masks keep their per-tile transposes.
/// </summary>
internal static unsafe class TransposedMask
{
    /// <summary>The largest copy made (4 MiB of floats): a [512, 512] mask for four distinct heads, a [1024, 1024] one for one.</summary>
    public const long MaxFloats = 1 << 20;

    /// <summary>
    /// The tile-order copy of <paramref name="problem"/>'s additive or boolean mask in the calling thread's call scratch,
    /// when the tiled kernel runs the call at a vector width and the mask is shared (at most half as many distinct
    /// matrices as (batch, head) pairs) and small enough; else none (<see cref="TileOrderCopy.IsPresent"/> false). The scratch stays the caller's until its next
    /// call, and the kernels' work items finish before the call returns.
    /// </summary>
    public static TileOrderCopy Prepare(in AttentionProblem problem, AttentionKernel kernel)
    {
        DenseMaskLayout source = problem.DenseMask;
        int batches = source.BatchStride == 0 ? 1 : problem.Batch, heads = source.HeadStride == 0 ? 1 : problem.Heads;
        int rows = problem.QueryLength, keys = problem.KeyLength;
        if ((problem.AdditiveMask == null && problem.BooleanMask == null) || 2L * batches * heads > (long)problem.Batch * problem.Heads)
        {
            return default;
        }

        KernelResolution resolution = KernelDispatch.Resolve(problem, kernel);
        if (resolution.Kernel != KernelChoice.Tiled || resolution.VectorBits <= 32)
        {
            return default;
        }

        int bq = TiledAttention.QueryBlock(resolution.VectorBits / 32);
        long matrix = (long)(rows + bq - 1) / bq * bq * keys;
        if (batches * heads * matrix > MaxFloats)
        {
            return default;
        }

        float* copy = (float*)Unsafe.AsPointer(ref ThreadScratch.GetForCall(batches * heads * matrix)[0]);
        var layout = new Layout(source.BatchStride == 0 ? 0 : (nint)(heads * matrix), source.HeadStride == 0 ? 0 : (nint)matrix, bq, keys);
        for (int b = 0; b < batches; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                float* destination = copy + layout.Head(b, h);
                nint offset = source.Head(b, h);
                switch (resolution.VectorBits)
                {
                    case 512:
                        Copy<Vector512<float>, Vector512Ops>(problem, offset, rows, keys, destination, bq);
                        break;
                    case 256:
                        Copy<Vector256<float>, Vector256Ops>(problem, offset, rows, keys, destination, bq);
                        break;
                    default:
                        Copy<Vector128<float>, Vector128Ops>(problem, offset, rows, keys, destination, bq);
                        break;
                }
            }
        }

        return new TileOrderCopy(copy, layout);
    }

    /// <summary>
    /// One matrix, at <paramref name="offset"/> elements into the mask, copied in tile order with its padding rows (past
    /// the last, up to a whole block) zero.
    /// </summary>
    private static void Copy<TV, TOps>(in AttentionProblem problem, nint offset, int rows, int keys, float* destination, int bq)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        DenseMaskLayout source = problem.DenseMask;
        nint queryStride = source.QueryStride, keyStride = source.KeyStride;
        float* additive = problem.AdditiveMask == null ? null : problem.AdditiveMask + offset;
        byte* allowed = problem.BooleanMask == null ? null : problem.BooleanMask + offset;
        int w = TOps.Count, i = 0;
        if (keyStride == 1)
        {
            // Lanes × lanes blocks transposed in registers (bq is a multiple of the lanes, so none straddles two query
            // blocks): the mask's rows directly, or a boolean block's rows widened to biases first.
            float* biases = stackalloc float[w * w];
            for (; i + w <= rows; i += w)
            {
                float* block = destination + (nint)(i / bq) * bq * keys + i % bq;
                int j = 0;
                for (; j + w <= keys; j += w)
                {
                    if (additive != null)
                    {
                        TOps.Transpose(ref additive[i * queryStride + j], (nuint)queryStride, ref block[j * bq], (nuint)bq);
                    }
                    else
                    {
                        for (int r = 0; r < w; r++)
                        {
                            TOps.Store(BooleanMask.Biases<TV>(allowed + (i + r) * queryStride + j), ref biases[0], (nuint)(r * w));
                        }

                        TOps.Transpose(ref biases[0], (nuint)w, ref block[j * bq], (nuint)bq);
                    }
                }

                CopyScalar(additive, allowed, queryStride, keyStride, i, i + w, j, keys, destination, bq);
            }
        }

        CopyScalar(additive, allowed, queryStride, keyStride, i, rows, 0, keys, destination, bq);
        if (rows % bq != 0)
        {
            float* last = destination + (nint)(rows / bq) * bq * keys;
            for (int j = 0; j < keys; j++)
            {
                new Span<float>(last + j * bq + rows % bq, bq - rows % bq).Clear();
            }
        }
    }

    /// <summary>Rows [r0, r1) × keys [j0, keys) copied element by element.</summary>
    private static void CopyScalar(float* additive, byte* allowed, nint queryStride, nint keyStride, int r0, int r1, int j0, int keys, float* destination, int bq)
    {
        for (int i = r0; i < r1; i++)
        {
            float* row = destination + (nint)(i / bq) * bq * keys + i % bq;
            for (int j = j0; j < keys; j++)
            {
                nint at = i * queryStride + j * keyStride;
                row[j * bq] = additive != null ? additive[at] : BooleanMask.Bias(allowed[at]);
            }
        }
    }

    /// <summary>Where a copy's matrices are: (batch, head) at <c>b·BatchStride + h·HeadStride</c> (0 for a broadcast dimension), each in blocks of <see cref="BlockRows"/> query rows over <see cref="Keys"/> keys.</summary>
    internal readonly struct Layout
    {
        public readonly nint BatchStride, HeadStride;
        public readonly int BlockRows, Keys;

        public Layout(nint batchStride, nint headStride, int blockRows, int keys)
        {
            BatchStride = batchStride;
            HeadStride = headStride;
            BlockRows = blockRows;
            Keys = keys;
        }

        /// <summary>Float offset of (batch, head)'s matrix.</summary>
        public nint Head(int batch, int head) => batch * BatchStride + head * HeadStride;
    }
}

/// <summary>
/// A call's tile-order copy of its dense mask (<see cref="TransposedMask.Prepare"/>), or none (default), bound to one
/// (batch, head) by <see cref="ForHead"/> as the masks are.
/// </summary>
internal readonly unsafe struct TileOrderCopy
{
    private readonly float* _start, _head;
    private readonly TransposedMask.Layout _layout;

    public TileOrderCopy(float* start, TransposedMask.Layout layout)
        : this(start, start, layout)
    {
    }

    private TileOrderCopy(float* start, float* head, TransposedMask.Layout layout)
    {
        _start = start;
        _head = head;
        _layout = layout;
    }

    /// <summary>True when the call made a copy.</summary>
    public bool IsPresent => _start != null;

    /// <summary>The first matrix of the copy (null for none).</summary>
    public float* Start => _start;

    /// <summary>Where the copy's matrices are.</summary>
    public TransposedMask.Layout Layout => _layout;

    /// <summary>The copy bound to (batch, head)'s matrix; none stays none.</summary>
    public TileOrderCopy ForHead(int batch, int head) => _start == null ? this : new(_start, _start + _layout.Head(batch, head), _layout);

    /// <summary>
    /// <c>Sᵀ[j][r] += copy(i0 + r, j0 + j)</c> over a tile (see <see cref="IAttentionMask{TSelf}.ModifyTile"/>) from one
    /// matrix of the copy (the bound head's): the tile is one of the copy's query blocks (<paramref name="bq"/> rows from
    /// a multiple of bq, as the tiled kernel's blocks are), so its mask is one contiguous run, added to every lane (lanes
    /// past <paramref name="rows"/> add the padding's zeros or the next rows' biases, which the contract allows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddTo<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        Debug.Assert(_head != null && bq == _layout.BlockRows && bq == 4 * w && i0 % bq == 0 && rows <= bq, "a tile that is not one of the copy's query blocks");
        float* m = _head + (nint)i0 * _layout.Keys + (nint)j0 * bq;
        for (int j = 0; j < keyCount; j++, m += bq)
        {
            float* s = st + j * bq;
            TOps.Store(TOps.Add(TOps.Load(ref s[0], 0), TOps.Load(ref m[0], 0)), ref s[0], 0);
            TOps.Store(TOps.Add(TOps.Load(ref s[0], (nuint)w), TOps.Load(ref m[0], (nuint)w)), ref s[0], (nuint)w);
            TOps.Store(TOps.Add(TOps.Load(ref s[0], (nuint)(2 * w)), TOps.Load(ref m[0], (nuint)(2 * w))), ref s[0], (nuint)(2 * w));
            TOps.Store(TOps.Add(TOps.Load(ref s[0], (nuint)(3 * w)), TOps.Load(ref m[0], (nuint)(3 * w))), ref s[0], (nuint)(3 * w));
        }
    }
}
