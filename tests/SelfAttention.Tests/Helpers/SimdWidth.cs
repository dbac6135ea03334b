using System.Runtime.Intrinsics;

namespace SelfAttention.Tests.Helpers;

/// <summary>The vector width the kernels dispatch to in this process, for failure messages (CI runs the suite at each).</summary>
internal static class SimdWidth
{
    /// <summary>Vector512, Vector256, Vector128 or scalar.</summary>
    public static string Name =>
        Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : Vector128.IsHardwareAccelerated ? "Vector128" : "scalar";
}
