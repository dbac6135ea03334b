using SelfAttention.Internal;
using SelfAttention.Transformers.Kernels;

namespace SelfAttention.Transformers;

/// <summary>
/// The normalisations of transformer layers over the rows of a row-major <c>[rows × width]</c> matrix, each with an
/// optional residual added first (BERT's post-LN <c>LayerNorm(x + sublayer(x))</c> in one call), vectorized at the
/// widest accelerated width, allocation-free. The width is <c>gamma.Length</c>; <c>output</c> may be <c>input</c> or
/// <c>residual</c> itself (in place), otherwise it must share no memory with any argument.
/// </summary>
public static class Norms
{
    /// <summary>
    /// LayerNorm, as <c>torch.nn.LayerNorm(width, eps)</c>: for each row, <c>s = input + residual</c>, then
    /// <c>output = (s − mean(s)) / √(var(s) + epsilon) · gamma + beta</c> with the biased variance (divided by width).
    /// The mean and variance are accurate when the mean is large against the spread (corrected two-pass sums; the row
    /// statistics in double).
    /// </summary>
    /// <param name="input">The rows, <c>[rows × width]</c>: a whole number of rows of <paramref name="gamma"/>'s length.</param>
    /// <param name="residual">Added to <paramref name="input"/> before normalising, same length; empty for none.</param>
    /// <param name="gamma">The scale per column, <c>[width]</c>, at least one.</param>
    /// <param name="beta">The shift per column, <c>[width]</c>; empty for none (zero).</param>
    /// <param name="output">The normalised rows, as long as <paramref name="input"/>.</param>
    /// <param name="epsilon">Added to the variance: finite, ≥ 0 (BERT: 1e-12; PyTorch's default 1e-5). With 0, a constant row gives NaN, as in PyTorch.</param>
    /// <exception cref="ArgumentException">A length does not match, epsilon is negative or not finite, or output overlaps an argument without being input or residual.</exception>
    public static void LayerNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
                                 Span<float> output, float epsilon = 1e-5f)
    {
        Validate(input, residual, gamma, output, epsilon);
        if (!beta.IsEmpty && beta.Length != gamma.Length)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(beta), "beta.Length (gamma.Length, or 0 for none)", gamma.Length, beta.Length);
        }

        AttentionValidation.CheckNoOverlap<float, float>(output, beta, nameof(output), nameof(beta));
        NormKernels.LayerNorm(input, residual, gamma, beta, output, epsilon);
    }

    /// <summary>
    /// RMSNorm, as in Llama (<c>torch.nn.RMSNorm(width, eps)</c>): for each row, <c>s = input + residual</c>, then
    /// <c>output = s / √(mean(s²) + epsilon) · gamma</c>.
    /// </summary>
    /// <param name="input">The rows, <c>[rows × width]</c>: a whole number of rows of <paramref name="gamma"/>'s length.</param>
    /// <param name="residual">Added to <paramref name="input"/> before normalising, same length; empty for none.</param>
    /// <param name="gamma">The scale per column, <c>[width]</c>, at least one.</param>
    /// <param name="output">The normalised rows, as long as <paramref name="input"/>.</param>
    /// <param name="epsilon">Added to the mean square: finite, ≥ 0 (Llama: 1e-5 or 1e-6).</param>
    /// <exception cref="ArgumentException">A length does not match, epsilon is negative or not finite, or output overlaps an argument without being input or residual.</exception>
    public static void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, Span<float> output, float epsilon = 1e-6f)
    {
        Validate(input, residual, gamma, output, epsilon);
        NormKernels.RmsNorm(input, residual, gamma, output, epsilon);
    }

    // Shared by both norms and their reference (NaiveNorms).
    internal static void Validate<TOut>(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, Span<TOut> output, float epsilon)
        where TOut : unmanaged
    {
        if (gamma.IsEmpty)
        {
            ThrowHelper.ThrowNotPositive(nameof(gamma), "gamma.Length (the row width)", 0);
        }

        if (input.Length % gamma.Length != 0)
        {
            throw new ArgumentException(
                $"input.Length: expected a multiple of the row width gamma.Length = {gamma.Length}, actual {input.Length}.", nameof(input));
        }

        if (!residual.IsEmpty && residual.Length != input.Length)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(residual), "residual.Length (input.Length, or 0 for none)", input.Length, residual.Length);
        }

        if (output.Length != input.Length)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(output), "output.Length", input.Length, output.Length);
        }

        if (!float.IsFinite(epsilon) || epsilon < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, $"epsilon: expected a finite number ≥ 0, actual {epsilon}.");
        }

        if (typeof(TOut) == typeof(float))
        {
            Span<float> written = System.Runtime.InteropServices.MemoryMarshal.Cast<TOut, float>(output);
            TransformerValidation.CheckInPlaceOrDisjoint(input, written, nameof(input), nameof(output));
            if (!residual.IsEmpty)
            {
                TransformerValidation.CheckInPlaceOrDisjoint(residual, written, nameof(residual), nameof(output));
            }
        }
        else
        {
            AttentionValidation.CheckNoOverlap<TOut, float>(output, input, nameof(output), nameof(input));
            AttentionValidation.CheckNoOverlap<TOut, float>(output, residual, nameof(output), nameof(residual));
        }

        AttentionValidation.CheckNoOverlap<TOut, float>(output, gamma, nameof(output), nameof(gamma));
    }
}
