using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SelfAttention.Kernels;

/// <summary>
/// Widening of a low-precision KV cache's values to float: one vector at a time in registers for the decode kernels
/// (through <see cref="IStoredFormat"/>), and whole runs, at the widest accelerated vector width, for the prefill's prefix.
/// <para>
/// .NET 10 has no Half or BFloat16 conversion instruction in <c>System.Runtime.Intrinsics</c> (no F16C, no
/// AVX-512 FP16), and <c>TensorPrimitives.ConvertToSingle(ReadOnlySpan&lt;Half&gt;, …)</c> widens in software too, with
/// a call and set-up per span; a 128-element row per call was what made the Half cache slower than float. So each
/// format is widened here with integer vector operations, the same at every width:
/// <list type="bullet">
/// <item>Half: put the 16 bits in the top of a 32-bit lane (<c>w = h &lt;&lt; 16</c>); an arithmetic shift right by 3 and
/// a mask leave sign, 5 exponent and 10 mantissa bits where a float has them; multiplying by 2¹¹² rebias the
/// exponent, exactly, for normals, subnormals and zero; exponent 31 (∞, NaN) instead gets a float exponent of 255.</item>
/// <item>BFloat16: the top half of a float, so <c>w = h &lt;&lt; 16</c> is the float.</item>
/// <item>Int8: sign-extended, converted and multiplied by the block's scale (one float per <see cref="Int8Block"/>
/// values of a head's row).</item>
/// </list>
/// </para>
/// </summary>
internal static unsafe class Widen
{
    /// <summary>Values of a head's row that share one Int8 scale.</summary>
    public const int Int8Block = 32;

    /// <summary>Scales per head row of <paramref name="width"/> values (the last block may be short).</summary>
    public static int Int8Blocks(int width) => (width + Int8Block - 1) / Int8Block;

    /// <summary>2¹¹²: moves a Half exponent (bias 15) to a float one (bias 127).</summary>
    private const float HalfRebias = 5.192296858534828e33f;

    /// <summary>destination[c] = (float)source[c] for c &lt; count, source Half as raw bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Half(ushort* source, int count, float* destination)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c + 16 <= count; c += 16)
            {
                Half512(Vector256.Load(source + c)).Store(destination + c);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 8 <= count; c += 8)
            {
                Half256(Vector128.Load(source + c)).Store(destination + c);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; c + 4 <= count; c += 4)
            {
                Half128(Vector64.Load(source + c)).Store(destination + c);
            }
        }

        for (; c < count; c++)
        {
            destination[c] = HalfScalar(source[c]);
        }
    }

    /// <summary>One Half (raw bits) to float, by the same bit steps as the vector paths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfScalar(ushort h)
    {
        uint w = (uint)h << 16;
        uint e = (uint)((int)w >> 3) & 0x8FFFE000u;
        return (w & 0x7C000000u) == 0x7C000000u ? BitConverter.UInt32BitsToSingle(e | 0x7F800000u) : BitConverter.UInt32BitsToSingle(e) * HalfRebias;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Half512(Vector256<ushort> h) => HalfBits512(Vector512.WidenLower(h.ToVector512Unsafe()) << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Half256(Vector128<ushort> h) => HalfBits256(Vector256.WidenLower(h.ToVector256Unsafe()) << 16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Half128(Vector64<ushort> h) => HalfBits128(Vector128.WidenLower(h.ToVector128Unsafe()) << 16);

    // w: a Half in the top 16 bits of each lane. Sign, exponent and mantissa moved into place (w >> 3, arithmetic, masked),
    // times 2¹¹² for the exponent's bias; for exponent 31 (∞, NaN) the product's exponent is 143, and OR-ing exponent
    // bits 4–7 in makes it 255 with the mantissa kept: 8 operations, no blend.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfBits512(Vector512<uint> w)
    {
        Vector512<uint> e = (w.AsInt32() >> 3).AsUInt32() & Vector512.Create(0x8FFFE000u);
        Vector512<uint> special = Vector512.Equals(w & Vector512.Create(0x7C000000u), Vector512.Create(0x7C000000u)) & Vector512.Create(0x78000000u);
        return ((e.AsSingle() * Vector512.Create(HalfRebias)).AsUInt32() | special).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> HalfBits256(Vector256<uint> w)
    {
        Vector256<uint> e = (w.AsInt32() >> 3).AsUInt32() & Vector256.Create(0x8FFFE000u);
        Vector256<uint> special = Vector256.Equals(w & Vector256.Create(0x7C000000u), Vector256.Create(0x7C000000u)) & Vector256.Create(0x78000000u);
        return ((e.AsSingle() * Vector256.Create(HalfRebias)).AsUInt32() | special).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> HalfBits128(Vector128<uint> w)
    {
        Vector128<uint> e = (w.AsInt32() >> 3).AsUInt32() & Vector128.Create(0x8FFFE000u);
        Vector128<uint> special = Vector128.Equals(w & Vector128.Create(0x7C000000u), Vector128.Create(0x7C000000u)) & Vector128.Create(0x78000000u);
        return ((e.AsSingle() * Vector128.Create(HalfRebias)).AsUInt32() | special).AsSingle();
    }

    /// <summary>Zero-extends <c>TOps.Count</c> 16-bit values at <paramref name="source"/> into the top half of each lane (as float bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TopHalves<TV>(ushort* source) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            Vector512<uint> w = Avx512F.IsSupported ? Avx512F.ConvertToVector512UInt32(Vector256.Load(source)) : Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe());
            return Unsafe.BitCast<Vector512<float>, TV>((w << 16).AsSingle());
        }

        if (typeof(TV) == typeof(Vector256<float>))
        {
            Vector256<uint> w = Avx2.IsSupported ? Avx2.ConvertToVector256Int32(source).AsUInt32() : Vector256.WidenLower(Vector128.Load(source).ToVector256Unsafe());
            return Unsafe.BitCast<Vector256<float>, TV>((w << 16).AsSingle());
        }

        if (typeof(TV) == typeof(Vector128<float>))
        {
            Vector128<uint> w = Sse41.IsSupported ? Sse41.ConvertToVector128Int32(source).AsUInt32() : Vector128.WidenLower(Vector64.Load(source).ToVector128Unsafe());
            return Unsafe.BitCast<Vector128<float>, TV>((w << 16).AsSingle());
        }

        return Unsafe.BitCast<float, TV>(BitConverter.UInt32BitsToSingle((uint)*source << 16));
    }

    /// <summary>One vector of Half (raw bits) at <paramref name="source"/> widened in registers: the decode kernels' load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV HalfVector<TV>(ushort* source) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            return Unsafe.BitCast<Vector512<float>, TV>(HalfBits512(Unsafe.BitCast<TV, Vector512<float>>(TopHalves<TV>(source)).AsUInt32()));
        }

        if (typeof(TV) == typeof(Vector256<float>))
        {
            return Unsafe.BitCast<Vector256<float>, TV>(HalfBits256(Unsafe.BitCast<TV, Vector256<float>>(TopHalves<TV>(source)).AsUInt32()));
        }

        if (typeof(TV) == typeof(Vector128<float>))
        {
            return Unsafe.BitCast<Vector128<float>, TV>(HalfBits128(Unsafe.BitCast<TV, Vector128<float>>(TopHalves<TV>(source)).AsUInt32()));
        }

        return Unsafe.BitCast<float, TV>(HalfScalar(*source));
    }

    /// <summary>
    /// One vector of finite Half (raw bits) at <paramref name="source"/> widened in registers, four operations: a
    /// sign-extending load puts copies of the sign above the 16 bits, a shift left by 13 moves sign, exponent and
    /// mantissa where a float has them (the sign to bit 31), a mask clears bits 28–30, and the product with 2¹¹²
    /// rebias the exponent, exactly, for normals, subnormals and zero. Exponent 31 (±∞, NaN) would come out finite:
    /// only for storage that holds none (<see cref="AttentionProblem.StoredFinite"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV HalfFiniteVector<TV>(ushort* source) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            Vector512<int> i = Avx512F.IsSupported ? Avx512F.ConvertToVector512Int32(Vector256.Load((short*)source))
                : Vector512.WidenLower(Vector256.Load((short*)source).ToVector512Unsafe());
            return Unsafe.BitCast<Vector512<float>, TV>(((i << 13) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create(HalfRebias));
        }

        if (typeof(TV) == typeof(Vector256<float>))
        {
            Vector256<int> i = Avx2.IsSupported ? Avx2.ConvertToVector256Int32((short*)source) : Vector256.WidenLower(Vector128.Load((short*)source).ToVector256Unsafe());
            return Unsafe.BitCast<Vector256<float>, TV>(((i << 13) & Vector256.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector256.Create(HalfRebias));
        }

        if (typeof(TV) == typeof(Vector128<float>))
        {
            Vector128<int> i = Sse41.IsSupported ? Sse41.ConvertToVector128Int32((short*)source) : Vector128.WidenLower(Vector64.Load((short*)source).ToVector128Unsafe());
            return Unsafe.BitCast<Vector128<float>, TV>(((i << 13) & Vector128.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector128.Create(HalfRebias));
        }

        return Unsafe.BitCast<float, TV>(HalfScalar(*source));
    }

    /// <summary>Whether any of <paramref name="halves"/> (raw Half bits) is ±∞ or NaN: exponent bits all ones.</summary>
    public static bool AnyNonFiniteHalf(ReadOnlySpan<ushort> halves)
    {
        ref ushort h = ref MemoryMarshal.GetReference(halves);
        int c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<ushort> exponent = Vector256.Create((ushort)0x7C00);
            for (; c + Vector256<ushort>.Count <= halves.Length; c += Vector256<ushort>.Count)
            {
                if (Vector256.EqualsAny(Vector256.LoadUnsafe(ref h, (nuint)c) & exponent, exponent))
                {
                    return true;
                }
            }
        }

        for (; c < halves.Length; c++)
        {
            if ((halves[c] & 0x7C00) == 0x7C00)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>One vector of BFloat16 (raw bits) at <paramref name="source"/> widened in registers: a zero-extending load and a shift.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV BFloat16Vector<TV>(ushort* source) where TV : struct => TopHalves<TV>(source);

    /// <summary>One vector of Int8 at <paramref name="source"/> sign-extended and converted to float, unscaled: the decode kernels' load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Int8Vector<TV>(sbyte* source) where TV : struct
    {
        if (typeof(TV) == typeof(Vector512<float>))
        {
            Vector512<int> i = Avx512F.IsSupported ? Avx512F.ConvertToVector512Int32(Vector128.Load(source))
                : Vector512.WidenLower(Vector512.WidenLower(Vector128.Load(source).ToVector256Unsafe().ToVector512Unsafe()));
            return Unsafe.BitCast<Vector512<float>, TV>(Vector512.ConvertToSingle(i));
        }

        if (typeof(TV) == typeof(Vector256<float>))
        {
            Vector256<int> i = Avx2.IsSupported ? Avx2.ConvertToVector256Int32(source)
                : Vector256.WidenLower(Vector256.WidenLower(Vector64.Load(source).ToVector128Unsafe().ToVector256Unsafe()));
            return Unsafe.BitCast<Vector256<float>, TV>(Vector256.ConvertToSingle(i));
        }

        if (typeof(TV) == typeof(Vector128<float>))
        {
            Vector128<int> i = Sse41.IsSupported ? Sse41.ConvertToVector128Int32(source)
                : Vector128.WidenLower(Vector128.WidenLower(Vector128.CreateScalarUnsafe(*(int*)source).AsSByte()));
            return Unsafe.BitCast<Vector128<float>, TV>(Vector128.ConvertToSingle(i));
        }

        return Unsafe.BitCast<float, TV>(*source);
    }

    /// <summary>destination[c] = (float)source[c] for c &lt; count, source BFloat16 as raw bits (the top half of a float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BFloat16(ushort* source, int count, float* destination)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c + 16 <= count; c += 16)
            {
                (Vector512.WidenLower(Vector256.Load(source + c).ToVector512Unsafe()) << 16).AsSingle().Store(destination + c);
            }
        }

        if (Vector256.IsHardwareAccelerated)
        {
            for (; c + 8 <= count; c += 8)
            {
                (Vector256.WidenLower(Vector128.Load(source + c).ToVector256Unsafe()) << 16).AsSingle().Store(destination + c);
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; c + 4 <= count; c += 4)
            {
                (Vector128.WidenLower(Vector64.Load(source + c).ToVector128Unsafe()) << 16).AsSingle().Store(destination + c);
            }
        }

        for (; c < count; c++)
        {
            destination[c] = BitConverter.UInt32BitsToSingle((uint)source[c] << 16);
        }
    }

    /// <summary>
    /// destination[c] = source[c] · scales[c / <see cref="Int8Block"/>] for c &lt; count: one head's row (or a prefix
    /// of whole blocks of it) and its scales.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8(sbyte* source, float* scales, int count, float* destination)
    {
        int c = 0;
        for (; c + Int8Block <= count; c += Int8Block)
        {
            Int8FullBlock(source + c, scales[c / Int8Block], destination + c);
        }

        if (c < count)
        {
            float scale = scales[c / Int8Block];
            for (; c < count; c++)
            {
                destination[c] = source[c] * scale;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Int8FullBlock(sbyte* source, float scale, float* destination)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<short> s = Vector512.WidenLower(Vector256.Load(source).ToVector512Unsafe());
            Vector512<float> f = Vector512.Create(scale);
            (Vector512.ConvertToSingle(Vector512.WidenLower(s)) * f).Store(destination);
            (Vector512.ConvertToSingle(Vector512.WidenUpper(s)) * f).Store(destination + 16);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<sbyte> b = Vector256.Load(source);
            Vector256<short> lo = Vector256.WidenLower(b), hi = Vector256.WidenUpper(b);
            Vector256<float> f = Vector256.Create(scale);
            (Vector256.ConvertToSingle(Vector256.WidenLower(lo)) * f).Store(destination);
            (Vector256.ConvertToSingle(Vector256.WidenUpper(lo)) * f).Store(destination + 8);
            (Vector256.ConvertToSingle(Vector256.WidenLower(hi)) * f).Store(destination + 16);
            (Vector256.ConvertToSingle(Vector256.WidenUpper(hi)) * f).Store(destination + 24);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> f = Vector128.Create(scale);
            for (int half = 0; half < 2; half++)
            {
                Vector128<sbyte> b = Vector128.Load(source + 16 * half);
                Vector128<short> lo = Vector128.WidenLower(b), hi = Vector128.WidenUpper(b);
                float* d = destination + 16 * half;
                (Vector128.ConvertToSingle(Vector128.WidenLower(lo)) * f).Store(d);
                (Vector128.ConvertToSingle(Vector128.WidenUpper(lo)) * f).Store(d + 4);
                (Vector128.ConvertToSingle(Vector128.WidenLower(hi)) * f).Store(d + 8);
                (Vector128.ConvertToSingle(Vector128.WidenUpper(hi)) * f).Store(d + 12);
            }
        }
        else
        {
            for (int c = 0; c < Int8Block; c++)
            {
                destination[c] = source[c] * scale;
            }
        }
    }

    /// <summary>Scales per stored row of an Int8 problem: <c>kvHeads · Int8Blocks(width)</c>.</summary>
    public static nint ScaleRowStride(in AttentionProblem p, bool key)
    {
        int width = key ? p.HeadDim : p.ValueDim;
        nint rowStride = key ? p.KeyRowStride : p.ValueRowStride;
        return rowStride / width * Int8Blocks(width);
    }

    /// <summary>The first scale of row j, kv head <paramref name="kvHead"/>, of batch entry <paramref name="batch"/>.</summary>
    public static float* ScalesOf(in AttentionProblem p, bool key, int batch, int kvHead, int j)
    {
        int width = key ? p.HeadDim : p.ValueDim;
        nint rowStride = key ? p.KeyRowStride : p.ValueRowStride;
        nint rowsPerBatch = (key ? p.KeyBatchStride : p.ValueBatchStride) / rowStride;
        return (key ? p.KeyScales : p.ValueScales) + (batch * rowsPerBatch + j) * ScaleRowStride(p, key) + (nint)kvHead * Int8Blocks(width);
    }

    /// <summary>
    /// One stored element as float (the exact path, which reads a few rows): key (or value) row j of batch entry
    /// <paramref name="batch"/>, kv head <paramref name="kvHead"/>, channel c.
    /// </summary>
    public static float Element(in AttentionProblem p, bool key, int batch, int kvHead, int j, int c)
    {
        int width = key ? p.HeadDim : p.ValueDim;
        nint rowStride = key ? p.KeyRowStride : p.ValueRowStride;
        nint element = (key ? p.KeyBatchStride : p.ValueBatchStride) * batch + j * rowStride + (nint)kvHead * width + c;
        void* stored = key ? p.KeyStored : p.ValueStored;
        return p.Storage switch
        {
            KvCacheStorage.Half => HalfScalar(((ushort*)stored)[element]),
            KvCacheStorage.BFloat16 => BitConverter.UInt32BitsToSingle((uint)((ushort*)stored)[element] << 16),
            _ => ((sbyte*)stored)[element] * ScalesOf(p, key, batch, kvHead, j)[c / Int8Block],
        };
    }
}

/// <summary>
/// How the decode kernels read one stored row of a kv head (generic over it, so each storage is its own compiled
/// kernel): <see cref="Load{TV, TOps}"/> returns channels <c>[c, c + TOps.Count)</c> as float, widened in registers
/// right where the score and value loops load them, so no widened copy of any row is ever stored.
/// </summary>
internal unsafe interface IStoredFormat
{
    /// <summary>Bytes per stored element.</summary>
    static abstract int ElementSize { get; }

    /// <summary>Channels <c>[c, c + TOps.Count)</c> of the row at <paramref name="row"/> (Int8: scaled by the row's block scales <paramref name="scales"/>).</summary>
    static abstract TV Load<TV, TOps>(byte* row, float* scales, nuint c)
        where TV : struct where TOps : struct, IFloatVector<TV>;
}

/// <summary>float rows: a plain load.</summary>
internal readonly unsafe struct SingleFormat : IStoredFormat
{
    public static int ElementSize => sizeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TV, TOps>(byte* row, float* scales, nuint c)
        where TV : struct where TOps : struct, IFloatVector<TV> => TOps.Load(ref *(float*)row, c);
}

/// <summary>Half rows (<see cref="Widen.HalfVector{TV}"/>).</summary>
internal readonly unsafe struct HalfFormat : IStoredFormat
{
    public static int ElementSize => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TV, TOps>(byte* row, float* scales, nuint c)
        where TV : struct where TOps : struct, IFloatVector<TV> => Widen.HalfVector<TV>((ushort*)row + c);
}

/// <summary>Half rows that hold no ±∞ or NaN (<see cref="Widen.HalfFiniteVector{TV}"/>).</summary>
internal readonly unsafe struct HalfFiniteFormat : IStoredFormat
{
    public static int ElementSize => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TV, TOps>(byte* row, float* scales, nuint c)
        where TV : struct where TOps : struct, IFloatVector<TV> => Widen.HalfFiniteVector<TV>((ushort*)row + c);
}

/// <summary>BFloat16 rows (<see cref="Widen.BFloat16Vector{TV}"/>).</summary>
internal readonly unsafe struct BFloat16Format : IStoredFormat
{
    public static int ElementSize => sizeof(ushort);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TV, TOps>(byte* row, float* scales, nuint c)
        where TV : struct where TOps : struct, IFloatVector<TV> => Widen.BFloat16Vector<TV>((ushort*)row + c);
}

/// <summary>Int8 rows: converted, then multiplied by the scale of the block of <see cref="Widen.Int8Block"/> channels that holds c (a vector never spans two blocks: widths divide 32).</summary>
internal readonly unsafe struct Int8Format : IStoredFormat
{
    public static int ElementSize => sizeof(sbyte);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Load<TV, TOps>(byte* row, float* scales, nuint c)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        TOps.Multiply(Widen.Int8Vector<TV>((sbyte*)row + c), TOps.Create(scales[c / Widen.Int8Block]));
}
