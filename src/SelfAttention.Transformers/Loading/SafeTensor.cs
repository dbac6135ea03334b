namespace SelfAttention.Transformers;

/// <summary>One tensor of a safetensors file, widened to float32: its shape and its values in row-major order.</summary>
/// <param name="Shape">The sizes, outermost first (empty for a scalar).</param>
/// <param name="Values">The elements, as many as the sizes' product.</param>
public sealed record SafeTensor(int[] Shape, float[] Values);
