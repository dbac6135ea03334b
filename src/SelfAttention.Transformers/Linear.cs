using System.Globalization;
using SelfAttention.Internal;
using SelfAttention.Kernels;
using SelfAttention.Transformers.Kernels;

namespace SelfAttention.Transformers;

/// <summary>
/// A dense layer <c>y = activation(x·W + b)</c> whose weights are packed once, at construction, into the GEMM's panel
/// layout for this process's vector width, so a call streams them from the packed copy instead of repacking (which at
/// a few rows costs as much as the product). The bias and the activation are fused: each tile of the output gets them
/// as it finishes. Rows run in parallel column slabs on up to <c>maxDegreeOfParallelism</c> threads, bit-identical for
/// every count. Immutable after construction and safe to call from several threads at once; a steady-state call
/// allocates nothing.
/// </summary>
public sealed class Linear
{
    private readonly PackedMatrix _weights;
    private readonly float[] _bias;

    /// <summary>Packs <paramref name="weights"/> and copies <paramref name="bias"/>.</summary>
    /// <param name="weights">The weight matrix, <c>inFeatures·outFeatures</c> floats in <paramref name="layout"/>.</param>
    /// <param name="bias">The bias, <c>[outFeatures]</c>; empty for none.</param>
    /// <param name="inFeatures">Input columns, at least 1.</param>
    /// <param name="outFeatures">Output columns, at least 1.</param>
    /// <param name="layout">How <paramref name="weights"/> is laid out: ONNX's <c>[in, out]</c> (default) or PyTorch's <c>[out, in]</c>.</param>
    /// <param name="activation">Applied to every output element after the bias.</param>
    /// <exception cref="ArgumentException">A size is below 1, the lengths do not match, the product of the sizes passes
    /// <see cref="Array.MaxLength"/>, or an enum value is not defined.</exception>
    public Linear(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int inFeatures, int outFeatures,
                  LinearWeightLayout layout = LinearWeightLayout.InputMajor, LinearActivation activation = LinearActivation.None)
    {
        long count = Validate(weights, bias, inFeatures, outFeatures, layout, activation);
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Layout = layout;
        Activation = activation;
        _bias = bias.ToArray();
        if (layout == LinearWeightLayout.InputMajor)
        {
            _weights = PackedMatrix.Pack(weights, outFeatures, inFeatures, outFeatures);
        }
        else
        {
            // [out, in] → [in, out] once, then the same packing.
            var transposed = new float[count];
            for (int o = 0; o < outFeatures; o++)
            {
                for (int i = 0; i < inFeatures; i++)
                {
                    transposed[(long)i * outFeatures + o] = weights[(int)((long)o * inFeatures + i)];
                }
            }

            _weights = PackedMatrix.Pack(transposed, outFeatures, inFeatures, outFeatures);
        }
    }

    // The constructor's checks, shared with NaiveLinear; returns inFeatures · outFeatures.
    internal static long Validate(ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int inFeatures, int outFeatures,
                                  LinearWeightLayout layout, LinearActivation activation)
    {
        if (inFeatures < 1) ThrowHelper.ThrowNotPositive(nameof(inFeatures), nameof(inFeatures), inFeatures);
        if (outFeatures < 1) ThrowHelper.ThrowNotPositive(nameof(outFeatures), nameof(outFeatures), outFeatures);
        long count = AttentionValidation.Product(nameof(weights), "inFeatures · outFeatures", Array.MaxLength, inFeatures, outFeatures);

        // The packed copy rounds the columns up to whole panels (at most 63 more), and must fit one array too.
        int panel = PackedMatrix.PanelForThisProcess;
        AttentionValidation.Product(nameof(weights), "inFeatures · outFeatures rounded up to whole GEMM panels", PackedMatrix.MaxLength,
                                    inFeatures, (int)Math.Min(int.MaxValue, ((long)outFeatures + panel - 1) / panel * panel));
        if (weights.Length != count)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights.Length (inFeatures · outFeatures)", count, weights.Length);
        }

        if (!bias.IsEmpty && bias.Length != outFeatures)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(bias), "bias.Length (outFeatures, or 0 for none)", outFeatures, bias.Length);
        }

        if (!Enum.IsDefined(layout))
        {
            throw new ArgumentOutOfRangeException(nameof(layout), layout, string.Create(CultureInfo.InvariantCulture, $"layout: expected InputMajor or OutputMajor, actual {(int)layout}."));
        }

        if (!Enum.IsDefined(activation))
        {
            throw new ArgumentOutOfRangeException(nameof(activation), activation, string.Create(CultureInfo.InvariantCulture, $"activation: expected a LinearActivation, actual {(int)activation}."));
        }

        return count;
    }

    /// <summary>Input columns.</summary>
    public int InFeatures { get; }

    /// <summary>Output columns.</summary>
    public int OutFeatures { get; }

    /// <summary>How the weights were given (they are stored packed either way).</summary>
    public LinearWeightLayout Layout { get; }

    /// <summary>The fused activation.</summary>
    public LinearActivation Activation { get; }

    /// <summary>Whether a bias is added.</summary>
    public bool HasBias => _bias.Length != 0;

    /// <summary><c>output = activation(input·W + b)</c> for every row of <paramref name="input"/>.</summary>
    /// <param name="input">The rows, <c>[rows × InFeatures]</c>, row-major: a whole number of rows.</param>
    /// <param name="output">The result, <c>[rows × OutFeatures]</c>; must not overlap <paramref name="input"/>.</param>
    /// <param name="maxDegreeOfParallelism">0 or 1: the calling thread only; n: up to n threads; −1: one per processor.</param>
    /// <exception cref="ArgumentException">A length does not match, the spans overlap, or the degree is below −1.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int maxDegreeOfParallelism = 1)
    {
        if (input.Length % InFeatures != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"input.Length: expected a multiple of InFeatures = {InFeatures}, actual {input.Length}."), nameof(input));
        }

        int rows = input.Length / InFeatures;
        long expected = (long)rows * OutFeatures;
        if (output.Length != expected)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(output), $"output.Length (rows {rows} · OutFeatures {OutFeatures})", expected, output.Length);
        }

        TransformerValidation.CheckDegree(maxDegreeOfParallelism);

        AttentionValidation.CheckNoOverlap<float, float>(output, input, nameof(output), nameof(input));
        int degree = maxDegreeOfParallelism == 0 ? 1 : maxDegreeOfParallelism;
        switch (Activation)
        {
            case LinearActivation.Gelu: PackedGemm.Multiply<ActivationEpilogue<ActivationOperators.GeluOperator>>(input, InFeatures, _weights, _bias, output, OutFeatures, rows, degree); break;
            case LinearActivation.GeluTanh: PackedGemm.Multiply<ActivationEpilogue<ActivationOperators.GeluTanhOperator>>(input, InFeatures, _weights, _bias, output, OutFeatures, rows, degree); break;
            case LinearActivation.Silu: PackedGemm.Multiply<ActivationEpilogue<ActivationOperators.SiluOperator>>(input, InFeatures, _weights, _bias, output, OutFeatures, rows, degree); break;
            case LinearActivation.Relu: PackedGemm.Multiply<ActivationEpilogue<ActivationOperators.ReluOperator>>(input, InFeatures, _weights, _bias, output, OutFeatures, rows, degree); break;
            default: PackedGemm.Multiply<NoEpilogue>(input, InFeatures, _weights, _bias, output, OutFeatures, rows, degree); break;
        }
    }
}
