using SelfAttention.Transformers.Kernels;

namespace SelfAttention.Transformers;

/// <summary>
/// The activations of transformer feed-forward blocks, element-wise over spans, vectorized at the widest accelerated
/// width, allocation-free. In place (<c>destination</c> the same span as <c>x</c>) or into a disjoint span.
/// <para>
/// Accuracy against the double-precision reference (<c>SelfAttention.Transformers.Reference.NaiveActivations</c>),
/// over every multiple of 2⁻¹² in [−10, 10] and every normal binade (tests/SelfAttention.Tests/Transformers): relative error at
/// most 4e-7 for <see cref="Erf(float)"/> and <see cref="Silu"/>, 5e-7 for <see cref="Gelu"/> (3.5 to 4 float ulps), and
/// 4e-7 + 2e-7·|2u| for <see cref="GeluTanh"/>, whose exponent <c>2u</c> is a rounded float that the exponential
/// amplifies on the far left (1.1e-5 at x = −9, where the result is −8e-34). Results below 2⁻¹⁰⁰ in magnitude may come
/// out as ±0. Each is exact at 0, −0 at −∞ (±1 for erf), +∞ at +∞ (1 for erf), NaN for NaN.
/// </para>
/// </summary>
public static class Activations
{
    /// <summary>The Gauss error function <c>erf x = (2/√π)·∫₀ˣ e^(−t²) dt</c> (.NET has none).</summary>
    /// <param name="x">The argument.</param>
    /// <returns><c>erf x</c>, in [−1, 1].</returns>
    public static float Erf(float x) => ActivationOperators.ErfOperator.Invoke<float, SelfAttention.Kernels.ScalarOps>(x);

    /// <summary><c>destination[i] = erf(x[i])</c>.</summary>
    /// <param name="x">The arguments.</param>
    /// <param name="destination">The results: as long as <paramref name="x"/>; <paramref name="x"/> itself, or disjoint from it.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap without being the same.</exception>
    public static void Erf(ReadOnlySpan<float> x, Span<float> destination) => Apply<ActivationOperators.ErfOperator>(x, destination);

    /// <summary>GELU, the exact (erf) form used by BERT and <c>torch.nn.GELU()</c>: <c>x·Φ(x) = ½·x·(1 + erf(x/√2))</c>.</summary>
    /// <param name="x">The arguments.</param>
    /// <param name="destination">The results: as long as <paramref name="x"/>; <paramref name="x"/> itself, or disjoint from it.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap without being the same.</exception>
    public static void Gelu(ReadOnlySpan<float> x, Span<float> destination) => Apply<ActivationOperators.GeluOperator>(x, destination);

    /// <summary>
    /// GELU, the tanh approximation (<c>torch.nn.GELU(approximate="tanh")</c>, GPT-2's <c>gelu_new</c>):
    /// <c>½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))</c>, computed exactly as written (it is not an approximation of the
    /// erf form here; it is its own function).
    /// </summary>
    /// <param name="x">The arguments.</param>
    /// <param name="destination">The results: as long as <paramref name="x"/>; <paramref name="x"/> itself, or disjoint from it.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap without being the same.</exception>
    public static void GeluTanh(ReadOnlySpan<float> x, Span<float> destination) => Apply<ActivationOperators.GeluTanhOperator>(x, destination);

    /// <summary>SiLU (swish), the activation of Llama-style gated feed-forward blocks: <c>x·σ(x) = x/(1 + e^(−x))</c>.</summary>
    /// <param name="x">The arguments.</param>
    /// <param name="destination">The results: as long as <paramref name="x"/>; <paramref name="x"/> itself, or disjoint from it.</param>
    /// <exception cref="ArgumentException">The lengths differ, or the spans overlap without being the same.</exception>
    public static void Silu(ReadOnlySpan<float> x, Span<float> destination) => Apply<ActivationOperators.SiluOperator>(x, destination);

    private static void Apply<TOp>(ReadOnlySpan<float> x, Span<float> destination)
        where TOp : struct, IElementwiseOperator
    {
        TransformerValidation.CheckSameLengthInPlaceOrDisjoint(x, destination, nameof(x), nameof(destination), x.Length);
        Elementwise.Apply<TOp>(x, destination);
    }
}
