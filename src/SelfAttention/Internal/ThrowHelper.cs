using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SelfAttention.Internal;

/// <summary>One cold throw method per failure, so the validating callers stay small and inlinable.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowSizeMismatch(string paramName, string what, long expected, long actual) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"{what}: expected {expected}, actual {actual}."), paramName);

    [DoesNotReturn]
    public static void ThrowNegative(string paramName, string what, long actual) =>
        throw new ArgumentOutOfRangeException(paramName, actual,
            string.Create(CultureInfo.InvariantCulture, $"{what}: expected at least 0, actual {actual}."));

    [DoesNotReturn]
    public static void ThrowNotPositive(string paramName, string what, long actual) =>
        throw new ArgumentOutOfRangeException(paramName, actual,
            string.Create(CultureInfo.InvariantCulture, $"{what}: expected at least 1, actual {actual}."));

    [DoesNotReturn]
    public static void ThrowBadScale(float scale) =>
        throw new ArgumentOutOfRangeException("options", scale,
            string.Create(CultureInfo.InvariantCulture, $"options.Scale: expected a finite value greater than 0 (or null for 1/√headDim), actual {scale}."));

    [DoesNotReturn]
    public static void ThrowBadNormalization(AttentionNormalization normalization) =>
        throw new ArgumentOutOfRangeException("options", normalization,
            string.Create(CultureInfo.InvariantCulture, $"options.Normalization: expected Softmax or Sum, actual {(int)normalization}."));

    [DoesNotReturn]
    public static void ThrowBadKernel(AttentionKernel kernel) =>
        throw new ArgumentOutOfRangeException("options", kernel,
            string.Create(CultureInfo.InvariantCulture, $"options.Kernel: expected a defined AttentionKernel, actual {(int)kernel}."));

    [DoesNotReturn]
    public static void ThrowBadParallelism(int degree) =>
        throw new ArgumentOutOfRangeException("options", degree,
            string.Create(CultureInfo.InvariantCulture, $"options.MaxDegreeOfParallelism: expected -1, 0 or a positive count, actual {degree}."));

    [DoesNotReturn]
    public static void ThrowHeadsNotMultiple(int heads, int kvHeads) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"shape.Heads must be a multiple of shape.KvHeads: expected a multiple of {kvHeads}, actual {heads}."), "shape");

    [DoesNotReturn]
    public static void ThrowOverlap(string paramName, string other) =>
        throw new ArgumentException(
            string.Create(CultureInfo.InvariantCulture, $"{paramName} overlaps {other}: expected separate memory, actual overlapping memory."), paramName);

    [DoesNotReturn]
    public static void ThrowUnservable(string paramName, string what, long limit, long actual) =>
        throw new ArgumentOutOfRangeException(paramName,
            string.Create(CultureInfo.InvariantCulture, $"The shape is too large for {what}: expected at most {limit}, actual {actual}."));

    [DoesNotReturn]
    public static void ThrowBadAlignment(CausalAlignment alignment) =>
        throw new ArgumentOutOfRangeException("options", alignment,
            string.Create(CultureInfo.InvariantCulture, $"options.CausalAlignment: expected BottomRight or TopLeft, actual {(int)alignment}."));

    [DoesNotReturn]
    public static void ThrowBadWindow(string side, int actual) =>
        throw new ArgumentOutOfRangeException("options", actual,
            string.Create(CultureInfo.InvariantCulture, $"options.Window.{side}: expected -1 (unbounded) or at least 0, actual {actual}."));

    [DoesNotReturn]
    public static void ThrowLengthOutOfRange(string paramName, int sequence, int limit, string limitName, int actual) =>
        throw new ArgumentOutOfRangeException(paramName, actual,
            string.Create(CultureInfo.InvariantCulture, $"{paramName}[{sequence}]: expected 0 to {limit} ({limitName}), actual {actual}."));

    [DoesNotReturn]
    public static void ThrowOffsetOutOfRange(string paramName, int index, string expected, int actual) =>
        throw new ArgumentOutOfRangeException(paramName, actual,
            string.Create(CultureInfo.InvariantCulture, $"{paramName}[{index}]: expected {expected}, actual {actual}."));
}
