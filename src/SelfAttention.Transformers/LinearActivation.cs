namespace SelfAttention.Transformers;

/// <summary>The activation a <see cref="Linear"/> applies to its output, fused into the product (each tile as it finishes).</summary>
public enum LinearActivation
{
    /// <summary>None: <c>x·W + b</c>.</summary>
    None,

    /// <summary><see cref="Activations.Gelu"/> (erf form, BERT's feed-forward).</summary>
    Gelu,

    /// <summary><see cref="Activations.GeluTanh"/> (GPT-2's feed-forward).</summary>
    GeluTanh,

    /// <summary><see cref="Activations.Silu"/>.</summary>
    Silu,

    /// <summary><c>max(x, 0)</c>.</summary>
    Relu,
}

/// <summary>How a <see cref="Linear"/>'s weight matrix is laid out in the caller's buffer.</summary>
public enum LinearWeightLayout
{
    /// <summary><c>[inFeatures × outFeatures]</c>, row-major: the <c>B</c> of <c>x·B</c>, as ONNX <c>MatMul</c> initializers store it.</summary>
    InputMajor,

    /// <summary><c>[outFeatures × inFeatures]</c>, row-major: PyTorch's <c>nn.Linear.weight</c> and Hugging Face checkpoints.</summary>
    OutputMajor,
}
