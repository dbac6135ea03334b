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

    static abstract float Sum(TV value);

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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MultiplyAdd(float a, float b, float c) => Fma.IsSupported || AdvSimd.IsSupported ? MathF.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Max(float a, float b) => MathF.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxNative(float a, float b) => a > b ? a : b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(float value) => value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float ShiftIntoExponent(float value) => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) << 23);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SelectWhereLess(float x, float threshold, float ifLess, float otherwise) => x < threshold ? ifLess : otherwise;
    public static float LaneIndices => 0f;
    public static float SwapPairs(float value) => throw new System.Diagnostics.UnreachableException("A single lane has no pair to swap.");
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => Fma.IsSupported || AdvSimd.IsSupported ? Vector128.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> Max(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> MaxNative(Vector128<float> a, Vector128<float> b) => Vector128.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector128<float> value) => Vector128.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> ShiftIntoExponent(Vector128<float> value) => Vector128.ShiftLeft(value.AsInt32(), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SelectWhereLess(Vector128<float> x, Vector128<float> threshold, Vector128<float> ifLess, Vector128<float> otherwise) => Vector128.ConditionalSelect(Vector128.LessThan(x, threshold), ifLess, otherwise);
    public static Vector128<float> LaneIndices => Vector128.CreateSequence(0f, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector128<float> SwapPairs(Vector128<float> value) => (value.AsUInt64() << 32 | value.AsUInt64() >> 32).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MaxAcross(Vector128<float> value) =>
        MathF.Max(MathF.Max(value.GetElement(0), value.GetElement(1)), MathF.Max(value.GetElement(2), value.GetElement(3)));

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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.IsSupported ? Vector256.FusedMultiplyAdd(a, b, c) : a * b + c;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Vector256.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> MaxNative(Vector256<float> a, Vector256<float> b) => Vector256.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector256<float> value) => Vector256.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> ShiftIntoExponent(Vector256<float> value) => Vector256.ShiftLeft(value.AsInt32(), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SelectWhereLess(Vector256<float> x, Vector256<float> threshold, Vector256<float> ifLess, Vector256<float> otherwise) => Vector256.ConditionalSelect(Vector256.LessThan(x, threshold), ifLess, otherwise);
    public static Vector256<float> LaneIndices => Vector256.CreateSequence(0f, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector256<float> SwapPairs(Vector256<float> value) => (value.AsUInt64() << 32 | value.AsUInt64() >> 32).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector256<float> value) => Vector128Ops.MaxAcross(Vector128.Max(value.GetLower(), value.GetUpper()));

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
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> Max(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> MaxNative(Vector512<float> a, Vector512<float> b) => Vector512.MaxNative(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vector512<float> value) => Vector512.Sum(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> ShiftIntoExponent(Vector512<float> value) => Vector512.ShiftLeft(value.AsInt32(), 23).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SelectWhereLess(Vector512<float> x, Vector512<float> threshold, Vector512<float> ifLess, Vector512<float> otherwise) => Vector512.ConditionalSelect(Vector512.LessThan(x, threshold), ifLess, otherwise);
    public static Vector512<float> LaneIndices => Vector512.CreateSequence(0f, 1f);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vector512<float> SwapPairs(Vector512<float> value) => (value.AsUInt64() << 32 | value.AsUInt64() >> 32).AsSingle();
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float MaxAcross(Vector512<float> value) => Vector256Ops.MaxAcross(Vector256.Max(value.GetLower(), value.GetUpper()));

}
