using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SelfAttention.Comparison.Quick;
using SelfAttention.Transformers;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>model</c> command: all-MiniLM-L6-v2 sentence embeddings, ours (<see cref="SentenceEmbedder"/>: the batch
/// packed, no padding) against ONNX Runtime on the same model.onnx (the batch padded to its longest sentence, as ONNX
/// Runtime needs), the whole pass for both: tokenization with the same tokenizer, the encoder, mean pooling and L2
/// normalisation. Both are checked first on every batch (hidden states and embeddings). Then alternating rounds after
/// a warm-up, medians, one thread each (ONNX Runtime with intra-op threads 1, spinning off), and two threads at
/// 8 × 128 for both. The single-core FMA peak is measured in the same process, and each side's matrix-product flops
/// (ours over the real tokens, ONNX Runtime's over the padded batch it computes) are read as a share of it, so a
/// speed target can be checked against what the core allows that day.
/// </summary>
public static class ModelComparison
{
    // The steady-state time of the first batch (1 × 16 tokens), for the fresh-process line.
    private static double s_steadyFirstBatch;

    public static int Run(TextWriter output)
    {
        string folder = Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2");
        long loadStart = Stopwatch.GetTimestamp();
        SentenceEmbedder embedder = SentenceEmbedder.Load(folder);
        double loadMs = Stopwatch.GetElapsedTime(loadStart).TotalMilliseconds;
        BertWordPieceTokenizer tokenizer = embedder.Tokenizer;
        string[] words = WholeWords(tokenizer);
        var rng = new Random(20261202);
        var batches = new (string Name, string[] Sentences)[]
        {
            ("1 x 16 tokens", [Sentence(rng, words, 16)]),
            ("1 x 128 tokens", [Sentence(rng, words, 128)]),
            ("8 x 128 tokens", [.. Enumerable.Range(0, 8).Select(_ => Sentence(rng, words, 128))]),
            ("8 sentences of 3-66 tokens", [.. new[] { 3, 66, 12, 7, 40, 5, 25, 18 }.Select(n => Sentence(rng, words, n))]),
        };

        // The first calls of this fresh process, before anything else has run the encoder: a service's first requests.
        var first = new float[embedder.Dimension];
        double[] firstCalls = new double[6];
        for (int call = 0; call < firstCalls.Length; call++)
        {
            long start = Stopwatch.GetTimestamp();
            embedder.Embed(batches[0].Sentences, first);
            firstCalls[call] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        double peak = MachineControls.MeasureFmaPeak();
        using var one = new OnnxPeer(Path.Combine(folder, "model.onnx"), tokenizer, threads: 1);
        using var two = new OnnxPeer(Path.Combine(folder, "model.onnx"), tokenizer, threads: 2);
        output.WriteLine("all-MiniLM-L6-v2 sentence embeddings, whole pass (tokenize, encode, mean-pool, normalise); ours packed, ONNX Runtime padded");
        output.WriteLine($"{"batch",-28} {"threads",7} {"ours us",10} {"ORT us",10} {"ORT/ours",9} {"max |dh|",10} {"min cos",10} {"ours B/call",12} {"GFLOP",6} {"ours %pk",9} {"ORT %pk",8}");
        foreach ((string name, string[] sentences) in batches)
        {
            foreach (int threads in name.StartsWith("8 x", StringComparison.Ordinal) ? new[] { 1, 2 } : [1])
            {
                OnnxPeer peer = threads == 1 ? one : two;
                int d = embedder.Dimension;
                var ours = new float[sentences.Length * d];
                var theirs = new float[sentences.Length * d];
                Action runOurs = () => embedder.Embed(sentences, ours, threads);
                Action runTheirs = () => peer.Embed(sentences, theirs);
                runOurs();
                runTheirs();
                (double hidden, double cosine) = Compare(embedder, peer, sentences, ours, theirs);
                if (hidden > 1e-4 || cosine < 0.9999)
                {
                    output.WriteLine($"{name}: ours and ONNX Runtime differ (hidden {hidden:G3}, cosine {cosine:R}); not timed");
                    return 1;
                }

                var warm = Stopwatch.StartNew();
                while (warm.Elapsed.TotalSeconds < 2)
                {
                    runOurs();
                    runTheirs();
                }

                long before = GC.GetTotalAllocatedBytes(precise: true);
                runOurs();
                long bytes = GC.GetTotalAllocatedBytes(precise: true) - before;
                var oursTimes = new List<double>();
                var theirTimes = new List<double>();
                for (int round = 0; round < 15; round++)
                {
                    oursTimes.Add(GemmComparison.Time(runOurs));
                    theirTimes.Add(GemmComparison.Time(runTheirs));
                }

                double o = GemmComparison.Median(oursTimes), t = GemmComparison.Median(theirTimes);
                if (s_steadyFirstBatch == 0)
                {
                    s_steadyFirstBatch = o;
                }

                int[] lengths = [.. sentences.Select(sentence => tokenizer.Tokenize(sentence).Length)];
                double real = MatrixFlops(embedder.Encoder, lengths);
                double padded = MatrixFlops(embedder.Encoder, [.. lengths.Select(_ => lengths.Max())]);
                double available = peak * 1e3 * Math.Min(threads, Environment.ProcessorCount);   // flops per microsecond
                output.WriteLine($"{name,-28} {threads,7} {o,10:0} {t,10:0} {t / o,8:0.00}x {hidden,10:0.0e+0} {cosine,10:0.0000000} {bytes,12} "
                                 + $"{real / 1e9,6:0.00} {100 * real / (o * available),8:0.0}% {100 * padded / (t * available),7:0.0}%");
            }
        }

        double steady = s_steadyFirstBatch;
        var later = firstCalls[1..].ToList();
        output.WriteLine($"fresh process: load {loadMs:0} ms; 1 x 16 tokens: call 1 {firstCalls[0]:0} us, calls 2-6 median {GemmComparison.Median(later):0} us "
                         + $"= {GemmComparison.Median(later) / steady:0.00}x the steady state ({steady:0} us above)");
        output.WriteLine("ORT/ours: ONNX Runtime's time / ours (above 1: we are faster). max |dh|: the largest difference of a real token's last");
        output.WriteLine("hidden state; min cos: the smallest cosine between the two embeddings of a sentence. B/call: bytes allocated per call, process-wide.");
        output.WriteLine($"GFLOP: the matrix products' flops over the real tokens; %pk: flops / time against the FMA peak measured in this process,");
        output.WriteLine($"{peak:0.0} GFLOP/s per core ({MachineControls.VectorWidth}) x threads; ORT's over the padded batch it computes. A speedup s over ORT needs");
        output.WriteLine("s x ORT's %pk of the peak (times padded / real flops where ORT pads).");
        return 0;
    }

    // The flops of the encoder's matrix products for sequences of these lengths: per layer and sequence of n tokens,
    // 2·n·(h·3h + h·h + h·f + f·h) for the projections and the feed-forward block and 4·n²·h for the scores and the
    // weighted sum over all heads. Layer norms, GELU, softmax and the embeddings are left out (a few percent).
    private static double MatrixFlops(TransformerEncoder encoder, int[] lengths)
    {
        double flops = 0;
        foreach (EncoderLayer layer in encoder.Layers)
        {
            double h = layer.ModelDim, f = layer.FeedForwardDim;
            foreach (int n in lengths)
            {
                flops += 2.0 * n * (4 * h * h + 2 * h * f) + 4.0 * n * n * h;
            }
        }

        return flops;
    }

    // Our last hidden state against ONNX Runtime's on the real tokens, and the embeddings' cosines.
    private static (double Hidden, double Cosine) Compare(SentenceEmbedder embedder, OnnxPeer peer, string[] sentences, float[] ours, float[] theirs)
    {
        int d = embedder.Dimension;
        double worst = 0, cosine = 1;
        foreach (string sentence in sentences)
        {
            var ids = new int[embedder.MaxTokens];
            int n = embedder.Tokenizer.Encode(sentence, ids);
            var hidden = new float[n * d];
            embedder.Encoder.Forward(ids.AsSpan(0, n), [], [0, n], hidden);
            float[] reference = peer.Hidden([sentence], out _);
            for (int i = 0; i < hidden.Length; i++)
            {
                worst = Math.Max(worst, Math.Abs(hidden[i] - reference[i]));
            }
        }

        for (int s = 0; s < sentences.Length; s++)
        {
            cosine = Math.Min(cosine, System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(ours.AsSpan(s * d, d), theirs.AsSpan(s * d, d)));
        }

        return (worst, cosine);
    }

    // Vocabulary entries that are whole lower-case words, so that a sentence of n − 2 of them is n tokens.
    private static string[] WholeWords(BertWordPieceTokenizer tokenizer) =>
        [.. Enumerable.Range(2000, 20000).Select(tokenizer.TokenOf).Where(t => t.Length >= 3 && t.All(char.IsAsciiLetterLower))];

    private static string Sentence(Random rng, string[] words, int tokens) =>
        string.Join(' ', Enumerable.Range(0, tokens - 2).Select(_ => words[rng.Next(words.Length)]));

    /// <summary>ONNX Runtime on model.onnx with the same tokenizer: padded int64 inputs, then mean pooling over the mask and L2 normalisation.</summary>
    private sealed class OnnxPeer : IDisposable
    {
        private readonly InferenceSession _session;
        private readonly BertWordPieceTokenizer _tokenizer;
        private readonly int[] _ids = new int[512];

        public OnnxPeer(string path, BertWordPieceTokenizer tokenizer, int threads)
        {
            using var options = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            _session = new InferenceSession(path, options);
            _tokenizer = tokenizer;
        }

        public float[] Hidden(string[] sentences, out int[] lengths)
        {
            lengths = new int[sentences.Length];
            int[][] encoded = new int[sentences.Length][];
            for (int s = 0; s < sentences.Length; s++)
            {
                lengths[s] = _tokenizer.Encode(sentences[s], _ids);
                encoded[s] = _ids[..lengths[s]];
            }

            int batch = sentences.Length, max = lengths.Max();
            var ids = new long[batch * max];
            var mask = new long[batch * max];
            var types = new long[batch * max];
            for (int s = 0; s < batch; s++)
            {
                for (int t = 0; t < lengths[s]; t++)
                {
                    ids[s * max + t] = encoded[s][t];
                    mask[s * max + t] = 1;
                }
            }

            long[] shape = [batch, max];
            using OrtValue idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
            using OrtValue maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using OrtValue typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
            using var run = new RunOptions();
            using IDisposableReadOnlyCollection<OrtValue> results = _session.Run(run, ["input_ids", "attention_mask", "token_type_ids"],
                                                                                  [idsValue, maskValue, typesValue], ["last_hidden_state"]);
            return results[0].GetTensorDataAsSpan<float>().ToArray();
        }

        public void Embed(string[] sentences, float[] embeddings)
        {
            float[] hidden = Hidden(sentences, out int[] lengths);
            int d = embeddings.Length / sentences.Length, max = lengths.Max();
            Array.Clear(embeddings);
            for (int s = 0; s < sentences.Length; s++)
            {
                Span<float> row = embeddings.AsSpan(s * d, d);
                for (int t = 0; t < lengths[s]; t++)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(row, hidden.AsSpan((s * max + t) * d, d), row);
                }

                System.Numerics.Tensors.TensorPrimitives.Multiply(row, 1f / lengths[s], row);
                float norm = System.Numerics.Tensors.TensorPrimitives.Norm(row);
                System.Numerics.Tensors.TensorPrimitives.Divide(row, Math.Max(norm, 1e-12f), row);
            }
        }

        public void Dispose() => _session.Dispose();
    }
}
