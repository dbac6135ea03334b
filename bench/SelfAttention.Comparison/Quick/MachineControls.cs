using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SelfAttention.Kernels;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// Two control loops measured in the same process as the kernels, to read their figures against: the FMA peak of one
/// core (12 independent accumulators of fused multiply-adds, enough to cover the FMA latency on two pipes) and the
/// streaming read bandwidth of one core (a 256 MiB float array summed with vector adds). Both report the best of
/// several repetitions: a control is an upper bound, and noise only ever slows it. Both run at the widest accelerated
/// vector width, so under <c>DOTNET_EnableAVX512=0</c> they give the AVX2 figures. They run on the library's own
/// per-width operations (<see cref="IFloatVector{TV}"/>), whose multiply-add is one fused instruction where the CPU has
/// FMA and a multiply and an add where it has not (a software-emulated fused multiply-add would measure the emulation).
/// </summary>
public static class MachineControls
{
    /// <summary>The widest accelerated vector width, as the controls and the library see it.</summary>
    public static string VectorWidth =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256"
        : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";

    /// <summary>Measures the single-thread FMA peak: GFLOP/s, one FMA being 2 flops per lane.</summary>
    public static double MeasureFmaPeak(int repetitions = 5)
    {
        if (Vector512.IsHardwareAccelerated) return MeasureFmaPeak<Vector512<float>, Vector512Ops>(repetitions);
        if (Vector256.IsHardwareAccelerated) return MeasureFmaPeak<Vector256<float>, Vector256Ops>(repetitions);
        return MeasureFmaPeak<Vector128<float>, Vector128Ops>(repetitions);
    }

    /// <summary>Measures the single-thread streaming read bandwidth over an array of <paramref name="mebibytes"/> MiB, in GB/s (10⁹ bytes per second).</summary>
    public static double MeasureStreamingRead(int mebibytes = 256, int passes = 6)
    {
        float[] data = GC.AllocateUninitializedArray<float>(mebibytes * (1 << 20) / sizeof(float));
        Array.Fill(data, 1f); // touch every page before timing
        double best = double.MaxValue;
        float sink = 0;
        for (int pass = 0; pass < passes; pass++)
        {
            long start = Stopwatch.GetTimestamp();
            sink += SumStreaming(data);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        GC.KeepAlive(sink);
        return (double)data.Length * sizeof(float) / best / 1e9;
    }

    /// <summary>
    /// <c>Σ data</c> in one streaming pass at the widest accelerated width: the read loop of
    /// <see cref="MeasureStreamingRead"/>, also timed beside the decode kernels on their own K and V.
    /// </summary>
    internal static float SumStreaming(ReadOnlySpan<float> data) =>
        Vector512.IsHardwareAccelerated ? SumStreaming<Vector512<float>, Vector512Ops>(data)
        : Vector256.IsHardwareAccelerated ? SumStreaming<Vector256<float>, Vector256Ops>(data)
        : SumStreaming<Vector128<float>, Vector128Ops>(data);

    private static double MeasureFmaPeak<TV, TOps>(int repetitions)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        long iterations = 1_000_000;
        double seconds = TimeFmaLoop<TV, TOps>(iterations);
        iterations = Math.Max(iterations, (long)(iterations * 0.08 / seconds)); // about 80 ms per repetition
        double best = double.MaxValue;
        for (int r = 0; r < repetitions; r++)
        {
            best = Math.Min(best, TimeFmaLoop<TV, TOps>(iterations));
        }

        return iterations * 12.0 * TOps.Count * 2.0 / best / 1e9;
    }

    private static double TimeFmaLoop<TV, TOps>(long iterations)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        long start = Stopwatch.GetTimestamp();
        float sink = FmaLoop<TV, TOps>(iterations);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(sink);
        return seconds;
    }

    // acc = acc·m + a converges to a/(1 − m): no overflow, no denormals; every FMA depends only on its own accumulator.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float FmaLoop<TV, TOps>(long iterations)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        TV m = TOps.Create(0.999999f), a = TOps.Create(1e-6f);
        TV a0 = TOps.Create(0.1f), a1 = TOps.Create(0.2f), a2 = TOps.Create(0.3f), a3 = TOps.Create(0.4f);
        TV a4 = TOps.Create(0.5f), a5 = TOps.Create(0.6f), a6 = TOps.Create(0.7f), a7 = TOps.Create(0.8f);
        TV a8 = TOps.Create(0.9f), a9 = TOps.Create(1.0f), a10 = TOps.Create(1.1f), a11 = TOps.Create(1.2f);
        for (long n = 0; n < iterations; n++)
        {
            a0 = TOps.MultiplyAdd(a0, m, a); a1 = TOps.MultiplyAdd(a1, m, a); a2 = TOps.MultiplyAdd(a2, m, a);
            a3 = TOps.MultiplyAdd(a3, m, a); a4 = TOps.MultiplyAdd(a4, m, a); a5 = TOps.MultiplyAdd(a5, m, a);
            a6 = TOps.MultiplyAdd(a6, m, a); a7 = TOps.MultiplyAdd(a7, m, a); a8 = TOps.MultiplyAdd(a8, m, a);
            a9 = TOps.MultiplyAdd(a9, m, a); a10 = TOps.MultiplyAdd(a10, m, a); a11 = TOps.MultiplyAdd(a11, m, a);
        }

        TV total = TOps.Add(TOps.Add(TOps.Add(a0, a1), TOps.Add(a2, a3)), TOps.Add(TOps.Add(a4, a5), TOps.Add(a6, a7)));
        return TOps.Sum(TOps.Add(total, TOps.Add(TOps.Add(a8, a9), TOps.Add(a10, a11))));
    }

    // Σ data with four independent accumulators (the loads, not the add latency, set the pace); scalar tail.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static float SumStreaming<TV, TOps>(ReadOnlySpan<float> data)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        ref float start = ref MemoryMarshal.GetReference(data);
        nuint length = (nuint)data.Length, lanes = (nuint)TOps.Count, i = 0;
        TV s0 = TOps.Create(0), s1 = s0, s2 = s0, s3 = s0;
        for (; i + 4 * lanes <= length; i += 4 * lanes)
        {
            s0 = TOps.Add(s0, TOps.Load(ref start, i));
            s1 = TOps.Add(s1, TOps.Load(ref start, i + lanes));
            s2 = TOps.Add(s2, TOps.Load(ref start, i + 2 * lanes));
            s3 = TOps.Add(s3, TOps.Load(ref start, i + 3 * lanes));
        }

        float total = TOps.Sum(TOps.Add(TOps.Add(s0, s1), TOps.Add(s2, s3)));
        for (; i < length; i++)
        {
            total += Unsafe.Add(ref start, i);
        }

        return total;
    }
}
