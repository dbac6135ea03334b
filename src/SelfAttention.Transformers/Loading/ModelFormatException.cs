namespace SelfAttention.Transformers;

/// <summary>
/// A model file (ONNX, safetensors, a Hugging Face <c>config.json</c> or <c>vocab.txt</c>) that is malformed, truncated
/// or describes a model the loader does not support. The message names the file and the problem.
/// </summary>
public sealed class ModelFormatException : IOException
{
    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    /// <param name="path">The file.</param>
    /// <param name="problem">What is wrong with it, as a sentence.</param>
    /// <param name="inner">The exception that revealed the problem, if any.</param>
    public ModelFormatException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        FilePath = path;
    }

    /// <summary>The file that is wrong.</summary>
    public string FilePath { get; }
}
