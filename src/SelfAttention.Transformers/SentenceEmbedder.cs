using System.Buffers;
using System.Globalization;

namespace SelfAttention.Transformers;

/// <summary>
/// From sentences to sentence embeddings with a BERT-style encoder, as sentence-transformers does it: WordPiece
/// tokens framed by <c>[CLS] … [SEP]</c>, the <see cref="TransformerEncoder"/> over the batch packed without padding,
/// mean (or CLS) pooling over each sentence's tokens, then L2 normalisation, so that the dot product of two embeddings
/// is their cosine similarity.
/// <para>
/// A batch of sentences of different lengths costs what its tokens cost: nothing is padded. Apart from the tokenizer's
/// own work, a steady-state call allocates nothing (buffers are rented from <see cref="ArrayPool{T}.Shared"/>), and the
/// embedder is safe to call from several threads at once.
/// </para>
/// </summary>
public sealed class SentenceEmbedder
{
    /// <summary>Creates an embedder from its parts.</summary>
    /// <param name="encoder">The encoder; its vocabulary must be as large as the tokenizer's.</param>
    /// <param name="tokenizer">The tokenizer of the encoder's vocabulary.</param>
    /// <param name="pooling">Mean (sentence-transformers' default) or CLS pooling.</param>
    /// <param name="normalize">Scale each embedding to unit length (the default).</param>
    /// <param name="maxTokens">The most tokens per sentence, <c>[CLS]</c> and <c>[SEP]</c> included; longer sentences are
    /// truncated. 0 (the default) means the encoder's <see cref="TransformerEncoder.MaxSequenceLength"/>. Otherwise 2 to that.</param>
    /// <exception cref="ArgumentException">A part is null, the vocabularies differ, the pooling is undefined or <paramref name="maxTokens"/> is out of range.</exception>
    public SentenceEmbedder(TransformerEncoder encoder, BertWordPieceTokenizer tokenizer, PoolingMode pooling = PoolingMode.Mean, bool normalize = true, int maxTokens = 0)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (tokenizer.VocabularySize != encoder.Embeddings.VocabularySize)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"tokenizer.VocabularySize: expected the encoder's {encoder.Embeddings.VocabularySize} word pieces, actual {tokenizer.VocabularySize}."), nameof(tokenizer));
        }

        if (!Enum.IsDefined(pooling)) throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling: expected Mean or Cls, actual {(int)pooling}.");
        if (maxTokens != 0 && (maxTokens < 2 || maxTokens > encoder.MaxSequenceLength))
        {
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, string.Create(CultureInfo.InvariantCulture,
                $"maxTokens: expected 0 (the encoder's {encoder.MaxSequenceLength}) or 2 to {encoder.MaxSequenceLength}, actual {maxTokens}."));
        }

        Encoder = encoder;
        Tokenizer = tokenizer;
        Pooling = pooling;
        Normalize = normalize;
        MaxTokens = maxTokens == 0 ? encoder.MaxSequenceLength : maxTokens;
    }

    /// <summary>
    /// Loads a model: an ONNX file (with <c>vocab.txt</c> beside it), or a folder holding <c>vocab.txt</c> and either
    /// <c>model.onnx</c> or a Hugging Face checkpoint (<c>config.json</c> and <c>model.safetensors</c>).
    /// </summary>
    /// <param name="path">The file or folder.</param>
    /// <param name="pooling">Mean (the default) or CLS pooling.</param>
    /// <param name="normalize">Scale each embedding to unit length (the default).</param>
    /// <param name="maxTokens">The most tokens per sentence; 0 for the model's position count.</param>
    /// <returns>The embedder.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty, or an option is out of range.</exception>
    /// <exception cref="FileNotFoundException">Neither a file nor a folder is there, or a file the model needs is missing.</exception>
    /// <exception cref="ModelFormatException">A file is malformed or holds an unsupported model (the message names it).</exception>
    public static SentenceEmbedder Load(string path, PoolingMode pooling = PoolingMode.Mean, bool normalize = true, int maxTokens = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string folder, vocabulary;
        EncoderWeights weights;
        if (Directory.Exists(path))
        {
            folder = path;
            vocabulary = Path.Combine(folder, "vocab.txt");
            string onnx = Path.Combine(folder, "model.onnx");
            weights = File.Exists(onnx) ? OnnxEncoderLoader.Load(onnx) : HuggingFaceEncoderLoader.Load(folder);
        }
        else if (File.Exists(path))
        {
            folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
            vocabulary = Path.Combine(folder, "vocab.txt");
            if (!File.Exists(vocabulary))
            {
                throw new FileNotFoundException($"{vocabulary}: no such file (the vocabulary of {path} is expected beside it).", vocabulary);
            }

            weights = OnnxEncoderLoader.Load(path);
        }
        else
        {
            throw new FileNotFoundException($"{path}: no such file or folder (expected an ONNX model or a Hugging Face model folder).", path);
        }

        var encoder = new TransformerEncoder(weights);
        var tokenizer = BertWordPieceTokenizer.Load(vocabulary);
        if (tokenizer.VocabularySize != encoder.Embeddings.VocabularySize)
        {
            throw new ModelFormatException(vocabulary, string.Create(CultureInfo.InvariantCulture,
                $"{tokenizer.VocabularySize} tokens, but the model's word table has {encoder.Embeddings.VocabularySize} rows."));
        }

        return new SentenceEmbedder(encoder, tokenizer, pooling, normalize, maxTokens);
    }

    /// <summary>The encoder.</summary>
    public TransformerEncoder Encoder { get; }

    /// <summary>The tokenizer.</summary>
    public BertWordPieceTokenizer Tokenizer { get; }

    /// <summary>How token states become a sentence vector.</summary>
    public PoolingMode Pooling { get; }

    /// <summary>Whether embeddings are scaled to unit length.</summary>
    public bool Normalize { get; }

    /// <summary>The most tokens per sentence, <c>[CLS]</c> and <c>[SEP]</c> included.</summary>
    public int MaxTokens { get; }

    /// <summary>The length of one embedding: the encoder's model width.</summary>
    public int Dimension => Encoder.ModelDim;

    /// <summary>
    /// For a service's start-up: compiles every path an <see cref="Embed(ReadOnlySpan{string}, Span{float}, int)"/>
    /// call takes (the attention kernels through <see cref="AttentionWarmup.Run"/>, the tokenizer, the embeddings, the
    /// packed encoder at short and long sequences, pooling) so that no request pays the JIT, and starts the worker
    /// threads for <paramref name="maxDegreeOfParallelism"/>. Changes no result; safe to call more than once.
    /// </summary>
    /// <param name="maxDegreeOfParallelism">The degree later calls use: 0 or 1, n, or −1 for every processor.</param>
    /// <exception cref="ArgumentOutOfRangeException">The degree is below −1.</exception>
    public void WarmUp(int maxDegreeOfParallelism = 1)
    {
        TransformerValidation.CheckDegree(maxDegreeOfParallelism);
        AttentionWarmup.Run(maxDegreeOfParallelism);

        // One short and one long sequence in one packed batch (row-by-row and tiled attention, single rows, pairs and
        // six-row tiles of the products), then one sentence alone.
        string[] batch = ["warm up", string.Join(' ', Enumerable.Repeat("the quick brown fox jumps over the lazy dog", 8))];
        float[] embeddings = ArrayPool<float>.Shared.Rent(batch.Length * Dimension);
        try
        {
            Embed(batch, embeddings.AsSpan(0, batch.Length * Dimension), maxDegreeOfParallelism);
            Embed(batch.AsSpan(0, 1), embeddings.AsSpan(0, Dimension), maxDegreeOfParallelism);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(embeddings);
        }
    }

    /// <summary>Embeds one sentence.</summary>
    /// <param name="sentence">The sentence.</param>
    /// <returns>Its embedding, <see cref="Dimension"/> floats.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sentence"/> is null.</exception>
    public float[] Embed(string sentence)
    {
        var embedding = new float[Dimension];
        Embed([sentence], embedding);
        return embedding;
    }

    /// <summary>Embeds a batch of sentences in one pass of the encoder, packed without padding.</summary>
    /// <param name="sentences">The sentences; none null.</param>
    /// <param name="embeddings">One row per sentence, <c>[sentences.Length, Dimension]</c>, in order.</param>
    /// <param name="maxDegreeOfParallelism">0 or 1: the calling thread only; n: up to n threads; −1: one per processor. Results are identical for every value.</param>
    /// <exception cref="ArgumentException">A sentence is null, <paramref name="embeddings"/> has the wrong length, or the degree is below −1. Nothing is written then.</exception>
    public void Embed(ReadOnlySpan<string> sentences, Span<float> embeddings, int maxDegreeOfParallelism = 1)
    {
        for (int s = 0; s < sentences.Length; s++)
        {
            if (sentences[s] is null)
            {
                throw new ArgumentNullException(nameof(sentences), string.Create(CultureInfo.InvariantCulture, $"sentences[{s}]: expected a sentence, actual null."));
            }
        }

        long expected = (long)sentences.Length * Dimension;
        if (embeddings.Length != expected)
        {
            SelfAttention.Internal.ThrowHelper.ThrowSizeMismatch(nameof(embeddings), "embeddings.Length (sentences · Dimension)", expected, embeddings.Length);
        }

        TransformerValidation.CheckDegree(maxDegreeOfParallelism);
        if (sentences.IsEmpty)
        {
            return;
        }

        int d = Dimension;
        int capacity = (int)Math.Min(Array.MaxLength / Math.Max(d, Encoder.Layers[0].FeedForwardDim), (long)sentences.Length * MaxTokens);
        int[] ids = ArrayPool<int>.Shared.Rent(capacity);
        int[] offsets = ArrayPool<int>.Shared.Rent(sentences.Length + 1);
        float[]? hidden = null;
        try
        {
            int total = 0;
            offsets[0] = 0;
            for (int s = 0; s < sentences.Length; s++)
            {
                int room = Math.Min(MaxTokens, capacity - total);
                if (room < 2)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"sentences: the batch needs more than the {capacity} tokens one pass holds; expected fewer sentences per call."), nameof(sentences));
                }

                total += Tokenizer.Encode(sentences[s], ids.AsSpan(total, room));
                offsets[s + 1] = total;
            }

            hidden = ArrayPool<float>.Shared.Rent(total * d);
            ReadOnlySpan<int> packed = offsets.AsSpan(0, sentences.Length + 1);
            Span<float> states = hidden.AsSpan(0, total * d);
            Encoder.Forward(ids.AsSpan(0, total), [], packed, states, maxDegreeOfParallelism);
            Transformers.Pooling.Pool(states, packed, d, Pooling, embeddings);
            if (Normalize)
            {
                Transformers.Pooling.NormalizeL2(embeddings, d);
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(ids);
            ArrayPool<int>.Shared.Return(offsets);
            if (hidden is not null)
            {
                ArrayPool<float>.Shared.Return(hidden);
            }
        }
    }
}
