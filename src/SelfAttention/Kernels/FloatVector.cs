using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace SelfAttention.Kernels;

/// <summary>
/// The handful of float operations the kernels need, at one SIMD width. Each kernel is written once as a generic body
/// over <c>TOps : IFloatVector&lt;TV&gt;</c>; the JIT specialises it per struct, so there are no calls or boxing at run time.
/// <see cref="ScalarOps"/> has a width of one, which makes the same body the scalar fallback and the tail loop.
/// </summary>
/// <typeparam name="TV">The vector type: <see cref="Vector512{T}"/>, <see cref="Vector256{T}"/>, <see cref="Vector128{T}"/> or <see cref="float"/>.</typeparam>
internal interface IFloatVector<TV> where TV : struct
{
    /// <summary>Lanes per vector.</summary>
    static abstract int Count { get; }

    static abstract TV Zero { get; }

    static abstract TV Create(float value);

    static abstract TV Load(ref float source, nuint offset);

    static abstract void Store(TV value, ref float destination, nuint offset);

    static abstract TV Add(TV a, TV b);

    static abstract TV Subtract(TV a, TV b);

    static abstract TV Multiply(TV a, TV b);

    /// <summary>Lane-wise <c>a / b</c> (IEEE division, not a reciprocal estimate).</summary>
    static abstract TV Divide(TV a, TV b);

    /// <summary>
    /// <c>a·b + c</c>, fused (one rounding) where the CPU has FMA; otherwise a plain multiply and add, because the
    /// runtime's software emulation of a fused multiply-add is many times slower than the two instructions.
    /// </summary>
    static abstract TV MultiplyAdd(TV a, TV b, TV c);

    /// <summary>IEEE maximum: NaN in either operand gives NaN.</summary>
    static abstract TV Max(TV a, TV b);

    /// <summary>
    /// The hardware maximum, <c>a &gt; b ? a : b</c> per lane on x64 (NaN in either operand may give either operand):
    /// one instruction, where <see cref="Max"/> takes three on x64 and a chain of them is latency-bound. Only for maxima
    /// whose NaNs reach the result another way (a softmax's shift: a NaN score still yields a NaN weight).
    /// </summary>
    static abstract TV MaxNative(TV a, TV b);

    /// <summary>
    /// The hardware minimum, <c>a &lt; b ? a : b</c> per lane on x64 (NaN in either operand may give either operand; with
    /// a constant <paramref name="a"/> a NaN <paramref name="b"/> comes through on x64, Arm and the scalar form): one
    /// instruction, for clamps.
    /// </summary>
    static abstract TV MinNative(TV a, TV b);

    static abstract float Sum(TV value);

    /// <summary>
    /// <c>destination[t] = Sum(a_t) · scale</c> for t &lt; 4: four horizontal sums reduced together (pairwise adds across
    /// the four vectors), about a third of the instructions of four separate <see cref="Sum"/>s.
    /// </summary>
    static abstract void StoreSums(TV a0, TV a1, TV a2, TV a3, float scale, ref float destination);

    /// <summary>The largest lane; NaN when any lane is NaN.</summary>
    static abstract float MaxAcross(TV value);

    /// <summary>Reinterprets each lane as an int, shifts it left by 23 and reinterprets it back: builds <c>2ⁿ</c> from the exponent bits that <see cref="FastExp"/>'s shifter leaves in the low mantissa.</summary>
    static abstract TV ShiftIntoExponent(TV value);

    /// <summary>Per lane: <paramref name="ifLess"/> where <paramref name="x"/> &lt; <paramref name="threshold"/>, else <paramref name="otherwise"/> (NaN compares false).</summary>
    static abstract TV SelectWhereLess(TV x, TV threshold, TV ifLess, TV otherwise);

    /// <summary>The lane indices 0, 1, …, Count − 1 as floats.</summary>
    static abstract TV LaneIndices { get; }

    /// <summary>
    /// Swaps lanes 2k and 2k + 1 (each 64-bit lane rotated by 32 bits; little-endian lane order). Width one has no
    /// pair to swap: callers take their scalar tail instead.
    /// </summary>
    static abstract TV SwapPairs(TV value);

    /// <summary>
    /// Transposes one <c>Count × Count</c> block: <c>destination[c·destinationStride + r] = source[r·sourceStride + c]</c>
    /// for <c>r, c &lt; Count</c>, strides in floats. Rows are loaded whole, shuffled in registers and stored whole.
    /// </summary>
    static abstract void Transpose(ref float source, nuint sourceStride, ref float destination, nuint destinationStride);
}

/// <summary>Width one: the scalar fallback and every kernel's tail.</summary>
internal readonly struct ScalarOps : IFloatVector<float>
{
    public static int Count => 1;
    public static float Zero => 0f;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Create(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Load(ref float source, nuint offset) => Unsafe.Add(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(float value, ref float destination, nuint offset) => Unsafe.Add(ref destination, offset) = value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Add(float a, float b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Subtract(float a, float b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Multiply(float a, float b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Divide(float a, float b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float c) => Fma.IsSupported || AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float a, float b) => MathF.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxNative(float a, float b) => a > b ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MinNative(float a, float b) => a < b ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float value) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(float a0, float a1, float a2, float a3, float scale, ref float destination)
    {
        destination = a0 * scale;
        Unsafe.Add(ref destination, 1) = a1 * scale;
        Unsafe.Add(ref destination, 2) = a2 * scale;
        Unsafe.Add(ref destination, 3) = a3 * scale;
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ShiftIntoExponent(float value) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) << 23);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SelectWhereLess(float x, float threshold, float ifLess, float otherwise) => x < threshold ? ifLess : otherwise;
    public static float LaneIndices => 0f;
    public static float SwapPairs(float value) => throw new System.Diagnostics.UnreachableException("A single lane has no pair to swap.");
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Transpose(ref float source, nuint sourceStride, ref float destination, nuint destinationStride) => destination = source;
}

/// <summary>128 bits: SSE on x64, NEON on Arm64.</summary>
internal readonly struct Vector128Ops : IFloatVector<Vector128<float>>
{
    public static int Count => Vector128<float>.Count;
    public static Vector128<float> Zero => Vector128<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Create(float value) => Vector128.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Load(ref float source, nuint offset) => Vector128.LoadUnsafe(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector128<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Add(Vector128<float> a, Vector128<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Subtract(Vector128<float> a, Vector128<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Multiply(Vector128<float> a, Vector128<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Divide(Vector128<float> a, Vector128<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MaxNative(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MinNative(Vector128<float> a, Vector128<float> b) => Vector128.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);

    /// <summary>Two rounds of pairwise adds (x64 haddps, Arm64 faddp) leave the four sums in one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3, float scale, ref float destination)
    {
        Vector128<float> sums;
        if (Sse3.IsSupported)
        {
            sums = Sse3.HorizontalAdd(Sse3.HorizontalAdd(a0, a1), Sse3.HorizontalAdd(a2, a3));
        }
        else if (AdvSimd.Arm64.IsSupported)
        {
            sums = AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(a0, a1), AdvSimd.Arm64.AddPairwise(a2, a3));
        }
        else
        {
            sums = Vector128.Create(Sum(a0), Sum(a1), Sum(a2), Sum(a3));
        }

        Store(sums * scale, ref destination, 0);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ShiftIntoExponent(Vector128<float> value) => Vector128.ShiftLeft(value.AsInt32(), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SelectWhereLess(Vector128<float> x, Vector128<float> threshold, Vector128<float> ifLess, Vector128<float> otherwise) => Vector128.ConditionalSelect(Vector128.LessThan(x, threshold), ifLess, otherwise);
    public static Vector128<float> LaneIndices => Vector128.CreateSequence(0f, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SwapPairs(Vector128<float> value) => (value.AsUInt64() << 32 | value.AsUInt64() >> 32).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> value) =>
        MathF.Max(MathF.Max(value.GetElement(0), value.GetElement(1)), MathF.Max(value.GetElement(2), value.GetElement(3)));

    /// <summary>Interleaves the low halves of a and b: a₀ b₀ a₁ b₁ (x64 unpcklps, Arm64 zip1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> InterleaveLow(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackLow(a, b) : AdvSimd.Arm64.ZipLow(a, b);

    /// <summary>Interleaves the high halves of a and b: a₂ b₂ a₃ b₃ (x64 unpckhps, Arm64 zip2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> InterleaveHigh(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.UnpackHigh(a, b) : AdvSimd.Arm64.ZipHigh(a, b);

    /// <summary>The low 64-bit halves of a and b: a₀ a₁ b₀ b₁.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> LowHalves(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.MoveLowToHigh(a, b) : AdvSimd.Arm64.ZipLow(a.AsUInt64(), b.AsUInt64()).AsSingle();

    /// <summary>The high 64-bit halves of a and b: a₂ a₃ b₂ b₃.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> HighHalves(Vector128<float> a, Vector128<float> b) =>
        Sse.IsSupported ? Sse.MoveHighToLow(b, a) : AdvSimd.Arm64.ZipHigh(a.AsUInt64(), b.AsUInt64()).AsSingle();

    /// <summary>Two interleaving steps (pairs of rows, then pairs of pairs); element by element where neither SSE nor Arm64 is.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose(ref float source, nuint sourceStride, ref float destination, nuint destinationStride)
    {
        if (!Sse.IsSupported && !AdvSimd.Arm64.IsSupported)
        {
            for (nuint r = 0; r < 4; r++)
            {
                for (nuint c = 0; c < 4; c++)
                {
                    Unsafe.Add(ref destination, c * destinationStride + r) = Unsafe.Add(ref source, r * sourceStride + c);
                }
            }

            return;
        }

        Vector128<float> r0 = Load(ref source, 0), r1 = Load(ref source, sourceStride);
        Vector128<float> r2 = Load(ref source, 2 * sourceStride), r3 = Load(ref source, 3 * sourceStride);
        Vector128<float> t0 = InterleaveLow(r0, r1), t1 = InterleaveHigh(r0, r1), t2 = InterleaveLow(r2, r3), t3 = InterleaveHigh(r2, r3);
        Store(LowHalves(t0, t2), ref destination, 0);
        Store(HighHalves(t0, t2), ref destination, destinationStride);
        Store(LowHalves(t1, t3), ref destination, 2 * destinationStride);
        Store(HighHalves(t1, t3), ref destination, 3 * destinationStride);
    }
}

/// <summary>256 bits: AVX2 with FMA.</summary>
internal readonly struct Vector256Ops : IFloatVector<Vector256<float>>
{
    public static int Count => Vector256<float>.Count;
    public static Vector256<float> Zero => Vector256<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Create(float value) => Vector256.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Load(ref float source, nuint offset) => Vector256.LoadUnsafe(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector256<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Subtract(Vector256<float> a, Vector256<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Multiply(Vector256<float> a, Vector256<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Divide(Vector256<float> a, Vector256<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MaxNative(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MinNative(Vector256<float> a, Vector256<float> b) => Vector256.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);

    /// <summary>Pairwise adds within each 128-bit half (vhaddps), then the two halves added.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(Vector256<float> a0, Vector256<float> a1, Vector256<float> a2, Vector256<float> a3, float scale, ref float destination)
    {
        if (Avx.IsSupported)
        {
            Vector256<float> h = Avx.HorizontalAdd(Avx.HorizontalAdd(a0, a1), Avx.HorizontalAdd(a2, a3));
            Vector128Ops.Store((h.GetLower() + h.GetUpper()) * scale, ref destination, 0);
            return;
        }

        Vector128Ops.StoreSums(a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(), a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper(), scale, ref destination);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ShiftIntoExponent(Vector256<float> value) => Vector256.ShiftLeft(value.AsInt32(), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SelectWhereLess(Vector256<float> x, Vector256<float> threshold, Vector256<float> ifLess, Vector256<float> otherwise) => Vector256.ConditionalSelect(Vector256.LessThan(x, threshold), ifLess, otherwise);
    public static Vector256<float> LaneIndices => Vector256.CreateSequence(0f, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SwapPairs(Vector256<float> value) => (value.AsUInt64() << 32 | value.AsUInt64() >> 32).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector256<float> value) => Vector128Ops.MaxAcross(Vector128.Max(value.GetLower(), value.GetUpper()));

    /// <summary>
    /// The 4 × 4 transpose within each 128-bit half (interleave rows, then pairs of rows), then the halves swapped across
    /// the two groups of four rows; element by element without AVX.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ref float source, nuint sourceStride, ref float destination, nuint destinationStride)
    {
        if (!Avx.IsSupported)
        {
            for (nuint r = 0; r < 8; r++)
            {
                for (nuint c = 0; c < 8; c++)
                {
                    Unsafe.Add(ref destination, c * destinationStride + r) = Unsafe.Add(ref source, r * sourceStride + c);
                }
            }

            return;
        }

        // uGk, 128-bit half h: rows 4G … 4G + 3 of column 4h + k.
        InterleaveHalves(ref source, sourceStride, out Vector256<float> u00, out Vector256<float> u01, out Vector256<float> u02, out Vector256<float> u03);
        InterleaveHalves(ref Unsafe.Add(ref source, 4 * sourceStride), sourceStride, out Vector256<float> u10, out Vector256<float> u11, out Vector256<float> u12, out Vector256<float> u13);
        Store(Avx.Permute2x128(u00, u10, 0x20), ref destination, 0);
        Store(Avx.Permute2x128(u01, u11, 0x20), ref destination, destinationStride);
        Store(Avx.Permute2x128(u02, u12, 0x20), ref destination, 2 * destinationStride);
        Store(Avx.Permute2x128(u03, u13, 0x20), ref destination, 3 * destinationStride);
        Store(Avx.Permute2x128(u00, u10, 0x31), ref destination, 4 * destinationStride);
        Store(Avx.Permute2x128(u01, u11, 0x31), ref destination, 5 * destinationStride);
        Store(Avx.Permute2x128(u02, u12, 0x31), ref destination, 6 * destinationStride);
        Store(Avx.Permute2x128(u03, u13, 0x31), ref destination, 7 * destinationStride);
    }

    /// <summary>Four rows in, the 4 × 4 transposes of their 128-bit halves out: uk's half h holds the rows' column 4h + k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleaveHalves(ref float rows, nuint stride, out Vector256<float> u0, out Vector256<float> u1, out Vector256<float> u2, out Vector256<float> u3)
    {
        Vector256<float> r0 = Load(ref rows, 0), r1 = Load(ref rows, stride), r2 = Load(ref rows, 2 * stride), r3 = Load(ref rows, 3 * stride);
        Vector256<double> t0 = Avx.UnpackLow(r0, r1).AsDouble(), t1 = Avx.UnpackHigh(r0, r1).AsDouble();
        Vector256<double> t2 = Avx.UnpackLow(r2, r3).AsDouble(), t3 = Avx.UnpackHigh(r2, r3).AsDouble();
        u0 = Avx.UnpackLow(t0, t2).AsSingle();
        u1 = Avx.UnpackHigh(t0, t2).AsSingle();
        u2 = Avx.UnpackLow(t1, t3).AsSingle();
        u3 = Avx.UnpackHigh(t1, t3).AsSingle();
    }
}

/// <summary>512 bits: AVX-512F.</summary>
internal readonly struct Vector512Ops : IFloatVector<Vector512<float>>
{
    public static int Count => Vector512<float>.Count;
    public static Vector512<float> Zero => Vector512<float>.Zero;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Create(float value) => Vector512.Create(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Load(ref float source, nuint offset) => Vector512.LoadUnsafe(ref source, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vector512<float> value, ref float destination, nuint offset) => value.StoreUnsafe(ref destination, offset);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Subtract(Vector512<float> a, Vector512<float> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Multiply(Vector512<float> a, Vector512<float> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Divide(Vector512<float> a, Vector512<float> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MaxNative(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MinNative(Vector512<float> a, Vector512<float> b) => Vector512.MinNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);

    /// <summary>Each vector's two 256-bit halves added, then the 256-bit reduction.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreSums(Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3, float scale, ref float destination) =>
        Vector256Ops.StoreSums(a0.GetLower() + a0.GetUpper(), a1.GetLower() + a1.GetUpper(), a2.GetLower() + a2.GetUpper(), a3.GetLower() + a3.GetUpper(), scale, ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ShiftIntoExponent(Vector512<float> value) => Vector512.ShiftLeft(value.AsInt32(), 23).AsSingle();

    /// <summary>
    /// The sums of sixteen vectors in one: argument <c>a{r}{t}</c> lands in 128-bit quarter t, element r (so four
    /// lanes' sums over four rows come out as four quarters of four). A tree of 45 operations, about three per sum
    /// against five or more for <see cref="StoreSums"/>: the 512-bit halves, then quarters, added pairwise across
    /// vectors (vshuff32x4), then the 4 × 4 within quarters (unpack). AVX-512F only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> SumsOfSixteen(
        Vector512<float> a00, Vector512<float> a01, Vector512<float> a02, Vector512<float> a03,
        Vector512<float> a10, Vector512<float> a11, Vector512<float> a12, Vector512<float> a13,
        Vector512<float> a20, Vector512<float> a21, Vector512<float> a22, Vector512<float> a23,
        Vector512<float> a30, Vector512<float> a31, Vector512<float> a32, Vector512<float> a33)
    {
        // w_r, quarter t: a partial sum (four lanes) of a{r}{t}.
        Vector512<float> w0 = Quarters(Halves(a00, a01), Halves(a02, a03)), w1 = Quarters(Halves(a10, a11), Halves(a12, a13));
        Vector512<float> w2 = Quarters(Halves(a20, a21), Halves(a22, a23)), w3 = Quarters(Halves(a30, a31), Halves(a32, a33));
        Vector512<float> c01 = Avx512F.UnpackLow(w0, w1) + Avx512F.UnpackHigh(w0, w1), c23 = Avx512F.UnpackLow(w2, w3) + Avx512F.UnpackHigh(w2, w3);
        return Avx512F.UnpackLow(c01.AsDouble(), c23.AsDouble()).AsSingle() + Avx512F.UnpackHigh(c01.AsDouble(), c23.AsDouble()).AsSingle();

        // Quarters [x(q0 + q2), x(q1 + q3), y(q0 + q2), y(q1 + q3)].
        static Vector512<float> Halves(Vector512<float> x, Vector512<float> y) =>
            Avx512F.Shuffle4x128(x, y, 0b01_00_01_00) + Avx512F.Shuffle4x128(x, y, 0b11_10_11_10);

        // From two Halves results (x, y) and (x', y'): quarters [x, y, x', y'], each four lanes of partial sums.
        static Vector512<float> Quarters(Vector512<float> z1, Vector512<float> z2) =>
            Avx512F.Shuffle4x128(z1, z2, 0b10_00_10_00) + Avx512F.Shuffle4x128(z1, z2, 0b11_01_11_01);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SelectWhereLess(Vector512<float> x, Vector512<float> threshold, Vector512<float> ifLess, Vector512<float> otherwise) => Vector512.ConditionalSelect(Vector512.LessThan(x, threshold), ifLess, otherwise);
    public static Vector512<float> LaneIndices => Vector512.CreateSequence(0f, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SwapPairs(Vector512<float> value) => (value.AsUInt64() << 32 | value.AsUInt64() >> 32).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector512<float> value) => Vector256Ops.MaxAcross(Vector256.Max(value.GetLower(), value.GetUpper()));

    /// <summary>
    /// The 4 × 4 transpose within each 128-bit quarter (interleave rows, then pairs of rows), then a 4 × 4 transpose of
    /// the quarters across the four groups of four rows (two rounds of vshuff32x4): 64 shuffles for 256 floats.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(ref float source, nuint sourceStride, ref float destination, nuint destinationStride)
    {
        // uGk, 128-bit quarter q: rows 4G … 4G + 3 of column 4q + k.
        InterleaveQuarters(ref source, sourceStride, out Vector512<float> u00, out Vector512<float> u01, out Vector512<float> u02, out Vector512<float> u03);
        InterleaveQuarters(ref Unsafe.Add(ref source, 4 * sourceStride), sourceStride, out Vector512<float> u10, out Vector512<float> u11, out Vector512<float> u12, out Vector512<float> u13);
        InterleaveQuarters(ref Unsafe.Add(ref source, 8 * sourceStride), sourceStride, out Vector512<float> u20, out Vector512<float> u21, out Vector512<float> u22, out Vector512<float> u23);
        InterleaveQuarters(ref Unsafe.Add(ref source, 12 * sourceStride), sourceStride, out Vector512<float> u30, out Vector512<float> u31, out Vector512<float> u32, out Vector512<float> u33);
        TransposeQuarters(u00, u10, u20, u30, ref destination, destinationStride);
        TransposeQuarters(u01, u11, u21, u31, ref Unsafe.Add(ref destination, destinationStride), destinationStride);
        TransposeQuarters(u02, u12, u22, u32, ref Unsafe.Add(ref destination, 2 * destinationStride), destinationStride);
        TransposeQuarters(u03, u13, u23, u33, ref Unsafe.Add(ref destination, 3 * destinationStride), destinationStride);
    }

    /// <summary>Four rows in, the 4 × 4 transposes of their 128-bit quarters out: uk's quarter q holds the rows' column 4q + k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InterleaveQuarters(ref float rows, nuint stride, out Vector512<float> u0, out Vector512<float> u1, out Vector512<float> u2, out Vector512<float> u3)
    {
        Vector512<float> r0 = Load(ref rows, 0), r1 = Load(ref rows, stride), r2 = Load(ref rows, 2 * stride), r3 = Load(ref rows, 3 * stride);
        Vector512<double> t0 = Avx512F.UnpackLow(r0, r1).AsDouble(), t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        Vector512<double> t2 = Avx512F.UnpackLow(r2, r3).AsDouble(), t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        u0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        u2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
    }

    /// <summary>
    /// The 4 × 4 transpose of 128-bit quarters: output row 4q (stride apart from the first at <paramref name="destination"/>)
    /// is quarter q of a, b, c and d. Quarters (0, 1) and (2, 3) of a and b, then of c and d, then every quarter's four.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeQuarters(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d, ref float destination, nuint stride)
    {
        Vector512<float> ab01 = Avx512F.Shuffle4x128(a, b, 0x44), ab23 = Avx512F.Shuffle4x128(a, b, 0xEE);
        Vector512<float> cd01 = Avx512F.Shuffle4x128(c, d, 0x44), cd23 = Avx512F.Shuffle4x128(c, d, 0xEE);
        Store(Avx512F.Shuffle4x128(ab01, cd01, 0x88), ref destination, 0);
        Store(Avx512F.Shuffle4x128(ab01, cd01, 0xDD), ref destination, 4 * stride);
        Store(Avx512F.Shuffle4x128(ab23, cd23, 0x88), ref destination, 8 * stride);
        Store(Avx512F.Shuffle4x128(ab23, cd23, 0xDD), ref destination, 12 * stride);
    }
}
