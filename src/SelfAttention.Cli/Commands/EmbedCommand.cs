using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Models;
using SelfAttention.Transformers;

namespace SelfAttention.Cli.Commands;

/// <summary><c>selfattention embed [--model PATH] [--json] "sentence" …</c>: sentence embeddings from a real model.</summary>
internal sealed class EmbedCommand : ICommand
{
    /// <summary>The most sentences one run embeds (a file holding more is refused before any work).</summary>
    public const int MaxSentences = 10_000;

    /// <summary>The largest --input file read.</summary>
    public const long MaxInputBytes = 16L << 20;

    // The most sentences whose similarity matrix is printed.
    private const int MaxMatrix = 32;

    // Sentences per pass of the encoder: enough to amortise a call, few enough to keep the buffers small.
    private const int Chunk = 64;

    private readonly Argument<string[]> _sentences = new("sentence") { Description = "sentences to embed (or --input)", Arity = ArgumentArity.ZeroOrMore };
    private readonly Option<string> _model = ToolOptions.Text("--model", "PATH", $"an ONNX file (vocab.txt beside it) or a Hugging Face folder; default {ModelSource.DefaultName}");
    private readonly Option<string> _input = ToolOptions.Text("--input", "FILE", "read sentences from FILE, one per line (blank lines skipped), instead of the arguments");
    private readonly Option<bool> _json = new("--json") { Description = "print {\"model\", \"dim\", \"embeddings\"} as JSON, in input order", Arity = ArgumentArity.Zero };
    private readonly Option<int> _threads = CommonOptions.Threads();

    public string Name => "embed";

    public DocumentedCommand Create()
    {
        var command = new DocumentedCommand(Name, "sentence embeddings from a real model (all-MiniLM-L6-v2 by default)")
        {
            Notes = $"""
                Tokenizes each sentence (WordPiece), runs the encoder over the batch packed without padding,
                mean-pools each sentence's tokens and scales the result to unit length, as sentence-transformers does.
                Prints each sentence's tokens and, for two or more, the matrix of cosine similarities (the dot
                products of the unit vectors). --json prints the embeddings instead, in input order.
                At most {MaxSentences} sentences; longer sentences are truncated to the model's positions.
                """,
            ExitCodeHelp = """
                0 success; 2 bad option, no sentence, an empty sentence, or a missing or broken model or input file
                (one line on stderr).
                """,
        };
        command.Add(_sentences);
        foreach (Option option in new Option[] { _model, _input, _json, _threads })
        {
            command.Add(option);
        }

        command.Examples.Add("selfattention embed \"A man is playing a guitar.\" \"Someone plays the guitar.\" \"The market fell.\"");
        command.Examples.Add("selfattention embed --json --input sentences.txt > embeddings.json");
        command.Examples.Add("selfattention embed --model ./bert-folder \"hello world\"");
        return command;
    }

    public int Run(ParseResult parseResult, TextWriter output)
    {
        string[] arguments = parseResult.GetValue(_sentences) ?? [];
        string? input = parseResult.GetValue(_input);
        int threads = parseResult.GetValue(_threads);
        string[] sentences = input is null ? arguments : ReadInput(input, arguments);
        if (sentences.Length == 0)
        {
            throw new UsageException($"{Name}: give at least one sentence, as arguments or with --input FILE.");
        }

        if (sentences.Length > MaxSentences)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{Name}: {sentences.Length} sentences; at most {MaxSentences} per run."));
        }

        for (int s = 0; s < sentences.Length; s++)
        {
            if (string.IsNullOrWhiteSpace(sentences[s]))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{Name}: sentence {s + 1} is empty; expected some text to embed."));
            }
        }

        SentenceEmbedder embedder = ModelSource.Load(Name, parseResult.GetValue(_model), out string modelName);
        int d = embedder.Dimension;
        var embeddings = new float[(long)sentences.Length * d];
        for (int start = 0; start < sentences.Length; start += Chunk)
        {
            int count = Math.Min(Chunk, sentences.Length - start);
            embedder.Embed(sentences.AsSpan(start, count), embeddings.AsSpan(start * d, count * d), threads);
        }

        if (parseResult.GetValue(_json))
        {
            WriteJson(output, modelName, d, embeddings, sentences.Length);
        }
        else
        {
            WriteText(output, embedder, modelName, sentences, embeddings);
        }

        return ExitCodes.Success;
    }

    private string[] ReadInput(string path, string[] arguments)
    {
        if (arguments.Length != 0)
        {
            throw new UsageException($"{Name}: give sentences as arguments or with --input, not both.");
        }

        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new UsageException($"{Name}: --input {CliText.Echo(path)}: no such file.");
        }

        if (info.Length > MaxInputBytes)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{Name}: --input {CliText.Echo(path)} has {info.Length} bytes; at most {MaxInputBytes}."));
        }

        try
        {
            return [.. File.ReadAllLines(path, new UTF8Encoding(false, true)).Where(line => !string.IsNullOrWhiteSpace(line))];
        }
        catch (DecoderFallbackException)
        {
            throw new UsageException($"{Name}: --input {CliText.Echo(path)} is not UTF-8 text.");
        }
    }

    private static void WriteJson(TextWriter output, string model, int d, float[] embeddings, int count)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteNumber("dim", d);
            json.WriteStartArray("embeddings");
            for (int s = 0; s < count; s++)
            {
                json.WriteStartArray();
                for (int c = 0; c < d; c++)
                {
                    json.WriteNumberValue(embeddings[s * d + c]);
                }

                json.WriteEndArray();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteText(TextWriter output, SentenceEmbedder embedder, string model, string[] sentences, float[] embeddings)
    {
        int d = embedder.Dimension;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model {model}: {d} dimensions, {embedder.Encoder.Layers.Count} layers, {embedder.Pooling.ToString().ToLowerInvariant()} pooling, unit length"));
        for (int s = 0; s < sentences.Length; s++)
        {
            string[] tokens = embedder.Tokenizer.Tokenize(sentences[s], embedder.MaxTokens);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{s + 1}] \"{CliText.Echo(sentences[s], 200)}\""));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    {tokens.Length} tokens: {CliText.Echo(string.Join(' ', tokens), 400)}"));
        }

        if (sentences.Length == 1)
        {
            output.WriteLine("embedding, first 8 of " + d.ToString(CultureInfo.InvariantCulture) + ": "
                             + string.Join(" ", embeddings.Take(8).Select(v => v.ToString("+0.0000;-0.0000", CultureInfo.InvariantCulture))));
            return;
        }

        // Cosine similarities: the embeddings have unit length, so each is a dot product.
        int n = sentences.Length;
        if (n > MaxMatrix)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"cosine similarity: {n} sentences is more than the {MaxMatrix} a matrix shows; use --json for the embeddings."));
            return;
        }

        output.WriteLine("cosine similarity:");
        var header = new StringBuilder("      ");
        for (int j = 0; j < n; j++)
        {
            header.Append(string.Create(CultureInfo.InvariantCulture, $"{$"[{j + 1}]",7}"));
        }

        output.WriteLine(header.ToString());
        for (int i = 0; i < n; i++)
        {
            var row = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{$"[{i + 1}]",-6}"));
            for (int j = 0; j < n; j++)
            {
                float cosine = System.Numerics.Tensors.TensorPrimitives.Dot(embeddings.AsSpan(i * d, d), embeddings.AsSpan(j * d, d));
                row.Append(string.Create(CultureInfo.InvariantCulture, $"{cosine,7:0.000}"));
            }

            output.WriteLine(row.ToString());
        }
    }
}
