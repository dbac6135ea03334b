namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// The public members of the library as <see cref="PublicSurfaceTests"/> spells them (namespace, type, member, parameter
/// types), one constant per member, so that every bad-call table names exactly what it attacks.
/// </summary>
internal static class Api
{
    private const string SingleHead = "ReadOnlySpan2D<Single>, ReadOnlySpan2D<Single>, ReadOnlySpan2D<Single>, Span2D<Single>";
    private const string MultiHead = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, AttentionOptions";

    public const string WarmupRun = "SelfAttention.AttentionWarmup.Run(Int32)";
    public const string AttentionCompute = "SelfAttention.Attention.Compute(" + SingleHead + ", AttentionOptions)";
    public const string AttentionComputeWeights = "SelfAttention.Attention.Compute(" + SingleHead + ", Span2D<Single>, AttentionOptions)";
    public const string AttentionComputeMultiHead = "SelfAttention.Attention.ComputeMultiHead(" + MultiHead + ")";
    public const string NaiveCompute = "SelfAttention.Reference.NaiveAttention.Compute(" + SingleHead + ", AttentionOptions)";
    public const string NaiveComputeWeights = "SelfAttention.Reference.NaiveAttention.Compute(" + SingleHead + ", Span2D<Single>, AttentionOptions)";
    public const string NaiveComputeMultiHead = "SelfAttention.Reference.NaiveAttention.ComputeMultiHead(" + MultiHead + ")";
    private const string Padded = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, AttentionOptions";
    public const string AttentionComputeMultiHeadPadded = "SelfAttention.Attention.ComputeMultiHeadPadded(" + Padded + ")";
    private const string MultiHeadModified = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, AttentionModifiers, AttentionOptions";
    private const string PaddedModified = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, AttentionModifiers, AttentionOptions";
    public const string AttentionComputeModified = "SelfAttention.Attention.Compute(" + SingleHead + ", AttentionModifiers, AttentionOptions)";
    public const string AttentionComputeWeightsModified = "SelfAttention.Attention.Compute(" + SingleHead + ", Span2D<Single>, AttentionModifiers, AttentionOptions)";
    public const string AttentionComputeMultiHeadModified = "SelfAttention.Attention.ComputeMultiHead(" + MultiHeadModified + ")";
    public const string AttentionComputeMultiHeadPaddedModified = "SelfAttention.Attention.ComputeMultiHeadPadded(" + PaddedModified + ")";
    public const string NaiveComputeModified = "SelfAttention.Reference.NaiveAttention.Compute(" + SingleHead + ", AttentionModifiers, AttentionOptions)";
    public const string NaiveComputeWeightsModified = "SelfAttention.Reference.NaiveAttention.Compute(" + SingleHead + ", Span2D<Single>, AttentionModifiers, AttentionOptions)";
    public const string NaiveComputeMultiHeadModified = "SelfAttention.Reference.NaiveAttention.ComputeMultiHead(" + MultiHeadModified + ")";
    public const string NaiveComputeMultiHeadPaddedModified = "SelfAttention.Reference.NaiveAttention.ComputeMultiHeadPadded(" + PaddedModified + ")";
    public const string MaskStridesCtor = "SelfAttention.AttentionMaskStrides(Int64, Int64, Int64, Int64)";
    public const string MaskStridesShared = "SelfAttention.AttentionMaskStrides.Shared(Int32)";
    public const string MaskStridesBroadcast = "SelfAttention.AttentionMaskStrides.Broadcast(Boolean, Int32, Int32, Int32)";
    public const string NaiveTransformerEncoderForward = "SelfAttention.Transformers.Reference.NaiveTransformerEncoder.Forward(EncoderWeights, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, Span<Double>)";
    public const string NaiveComputeMultiHeadPadded = "SelfAttention.Reference.NaiveAttention.ComputeMultiHeadPadded(" + Padded + ")";
    private const string Packed = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, AttentionOptions";
    public const string AttentionComputeMultiHeadPacked = "SelfAttention.Attention.ComputeMultiHeadPacked(" + Packed + ")";
    public const string NaiveComputeMultiHeadPacked = "SelfAttention.Reference.NaiveAttention.ComputeMultiHeadPacked(" + Packed + ")";
    private const string PackedModified = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, AttentionModifiers, AttentionOptions";
    public const string AttentionComputeMultiHeadPackedModified = "SelfAttention.Attention.ComputeMultiHeadPacked(" + PackedModified + ")";
    public const string NaiveComputeMultiHeadPackedModified = "SelfAttention.Reference.NaiveAttention.ComputeMultiHeadPacked(" + PackedModified + ")";
    private const string PackedUser = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, TModifier, AttentionModifiers, AttentionOptions";
    public const string AttentionComputeMultiHeadPackedUser = "SelfAttention.Attention.ComputeMultiHeadPacked(" + PackedUser + ")";
    public const string NaiveComputeMultiHeadPackedUser = "SelfAttention.Reference.NaiveAttention.ComputeMultiHeadPacked(" + PackedUser + ")";
    public const string AttentionWindowCtor = "SelfAttention.AttentionWindow(Int32, Int32)";

    public const string Softmax = "SelfAttention.AttentionPrimitives.Softmax(ReadOnlySpan<Single>, Span<Single>)";
    public const string SumNormalize = "SelfAttention.AttentionPrimitives.SumNormalize(ReadOnlySpan<Single>, Span<Single>)";
    public const string Dot = "SelfAttention.AttentionPrimitives.Dot(ReadOnlySpan<Single>, ReadOnlySpan<Single>)";
    public const string WeightedSum = "SelfAttention.AttentionPrimitives.WeightedSum(ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>)";

    public const string AttentionShapeCtor = "SelfAttention.AttentionShape(Int32, Int32, Int32, Int32, Int32)";

    public const string RandomCtor = "SelfAttention.DeterministicRandom(UInt64)";
    public const string RandomNextUInt64 = "SelfAttention.DeterministicRandom.NextUInt64()";
    public const string RandomNextSingle = "SelfAttention.DeterministicRandom.NextSingle()";
    public const string RandomNextSingleRange = "SelfAttention.DeterministicRandom.NextSingle(Single, Single)";
    public const string RandomFill = "SelfAttention.DeterministicRandom.Fill(Span<Single>, Single, Single)";
    public const string RandomXavier = "SelfAttention.DeterministicRandom.FillXavierUniform(Span<Single>, Int32, Int32)";

    private const string MultiHeadUser = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, TModifier, AttentionModifiers, AttentionOptions";
    private const string PaddedUser = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, AttentionShape, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, TModifier, AttentionModifiers, AttentionOptions";
    public const string AttentionComputeUser = "SelfAttention.Attention.Compute(" + SingleHead + ", TModifier, AttentionModifiers, AttentionOptions)";
    public const string AttentionComputeWeightsUser = "SelfAttention.Attention.Compute(" + SingleHead + ", Span2D<Single>, TModifier, AttentionModifiers, AttentionOptions)";
    public const string AttentionComputeMultiHeadUser = "SelfAttention.Attention.ComputeMultiHead(" + MultiHeadUser + ")";
    public const string AttentionComputeMultiHeadPaddedUser = "SelfAttention.Attention.ComputeMultiHeadPadded(" + PaddedUser + ")";
    public const string NaiveComputeUser = "SelfAttention.Reference.NaiveAttention.Compute(" + SingleHead + ", TModifier, AttentionModifiers, AttentionOptions)";
    public const string NaiveComputeWeightsUser = "SelfAttention.Reference.NaiveAttention.Compute(" + SingleHead + ", Span2D<Single>, TModifier, AttentionModifiers, AttentionOptions)";
    public const string NaiveComputeMultiHeadUser = "SelfAttention.Reference.NaiveAttention.ComputeMultiHead(" + MultiHeadUser + ")";
    public const string NaiveComputeMultiHeadPaddedUser = "SelfAttention.Reference.NaiveAttention.ComputeMultiHeadPadded(" + PaddedUser + ")";
    public const string KvCacheAttendUser = "SelfAttention.KvCache.Attend(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, TModifier, AttentionModifiers, AttentionOptions)";
    public const string ModifierIsVisible = "SelfAttention.IAttentionModifier`1.IsVisible(Int32, Int32, Int32, Int32)";
    public const string ModifierModifyScore = "SelfAttention.IAttentionModifier`1.ModifyScore(Single, Int32, Int32, Int32, Int32)";
    public const string ModifierClassifyTile = "SelfAttention.IAttentionModifier`1.ClassifyTile(TSelf&, Int32, Int32, Int32, Int32, Int32, Int32)";
    public const string ModifierKeyRange = "SelfAttention.IAttentionModifier`1.KeyRange(TSelf&, Int32, Int32, Int32, Int32)";
    private const string MultiHeadWeights = "ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Span<Single>, AttentionShape";
    public const string AttentionComputeMultiHeadWeights = "SelfAttention.Attention.ComputeMultiHead(" + MultiHeadWeights + ", AttentionOptions)";
    public const string AttentionComputeMultiHeadWeightsModified = "SelfAttention.Attention.ComputeMultiHead(" + MultiHeadWeights + ", AttentionModifiers, AttentionOptions)";
    public const string NaiveComputeMultiHeadWeights = "SelfAttention.Reference.NaiveAttention.ComputeMultiHead(" + MultiHeadWeights + ", AttentionOptions)";
    public const string NaiveComputeMultiHeadWeightsModified = "SelfAttention.Reference.NaiveAttention.ComputeMultiHead(" + MultiHeadWeights + ", AttentionModifiers, AttentionOptions)";
    public const string KvCacheCtor = "SelfAttention.KvCache(Int32, Int32, Int32, Int32, Int32, KvCacheStorage)";
    public const string KvCacheClear = "SelfAttention.KvCache.Clear()";
    public const string KvCacheTruncate = "SelfAttention.KvCache.Truncate(Int32)";
    public const string KvCacheAppend = "SelfAttention.KvCache.Append(ReadOnlySpan<Single>, ReadOnlySpan<Single>, Int32)";
    public const string KvCacheAppendSequence = "SelfAttention.KvCache.Append(Int32, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Int32)";
    public const string KvCacheTruncateSequence = "SelfAttention.KvCache.Truncate(Int32, Int32)";
    public const string KvCacheSequenceLength = "SelfAttention.KvCache.SequenceLength(Int32)";
    public const string KvCacheAttend = "SelfAttention.KvCache.Attend(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, AttentionOptions)";
    public const string KvCacheAttendModified = "SelfAttention.KvCache.Attend(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, AttentionModifiers, AttentionOptions)";

    public const string LayerCtor = "SelfAttention.MultiHeadAttention(Int32, Int32, Int32, Int32, Int32, Boolean)";
    public const string LayerCreateRandom = "SelfAttention.MultiHeadAttention.CreateRandom(Int32, Int32, UInt64, Int32, Int32, Int32, Boolean)";
    public const string LayerSelf = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, AttentionOptions)";
    public const string LayerCached = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, KvCache, AttentionOptions)";
    public const string LayerCross = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Int32, Int32, Int32, AttentionOptions)";
    public const string LayerWeights = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Span<Single>, AttentionWeightsMode, Int32, Int32, Int32, AttentionOptions)";
    public const string NaiveLayer = "SelfAttention.Reference.NaiveMultiHeadAttention.Forward(MultiHeadAttention, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Int32, Int32, Int32, AttentionOptions)";
    public const string LayerSelfModified = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, AttentionModifiers, AttentionOptions)";
    public const string LayerCachedModified = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, KvCache, AttentionModifiers, AttentionOptions)";
    public const string LayerSelfUser = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, TModifier, AttentionModifiers, AttentionOptions)";
    public const string LayerCachedUser = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, KvCache, TModifier, AttentionModifiers, AttentionOptions)";
    public const string LayerCrossModified = "SelfAttention.MultiHeadAttention.Forward(ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Int32, Int32, Int32, AttentionModifiers, AttentionOptions)";
    public const string NaiveLayerModified = "SelfAttention.Reference.NaiveMultiHeadAttention.Forward(MultiHeadAttention, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Int32, Int32, Int32, AttentionModifiers, AttentionOptions)";
    public const string NaiveLayerWeights = "SelfAttention.Reference.NaiveMultiHeadAttention.Forward(MultiHeadAttention, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Span<Single>, AttentionWeightsMode, Int32, Int32, Int32, AttentionOptions)";

    public const string WriteSinusoidal = "SelfAttention.PositionalEncoding.WriteSinusoidal(Span<Single>, Int32, Int32, Int32, Single)";
    public const string AddSinusoidal = "SelfAttention.PositionalEncoding.AddSinusoidal(Span<Single>, Int32, Int32, Int32, Single)";
    public const string RotaryApply = "SelfAttention.RotaryEmbedding.Apply(Span<Single>, Int32, Int32, Int32, Int32, RotaryLayout, Single)";

    public const string EmbeddingCtor = "SelfAttention.Tokenization.EmbeddingTable(Int32, Int32)";
    public const string EmbeddingCreateRandom = "SelfAttention.Tokenization.EmbeddingTable.CreateRandom(Int32, Int32, UInt64)";
    public const string EmbeddingLookup = "SelfAttention.Tokenization.EmbeddingTable.Lookup(ReadOnlySpan<Int32>, Span<Single>)";
    public const string VocabularyCtor = "SelfAttention.Tokenization.Vocabulary(IEnumerable<String>, String)";
    public const string VocabularyBuild = "SelfAttention.Tokenization.Vocabulary.Build(IEnumerable<String>, WordTokenizer, Int32)";
    public const string VocabularyGetId = "SelfAttention.Tokenization.Vocabulary.GetId(String)";
    public const string VocabularyTryGetId = "SelfAttention.Tokenization.Vocabulary.TryGetId(String, Int32&)";
    public const string VocabularyGetToken = "SelfAttention.Tokenization.Vocabulary.GetToken(Int32)";
    public const string TokenizerCtor = "SelfAttention.Tokenization.WordTokenizer(Boolean)";
    public const string TokenizerSplit = "SelfAttention.Tokenization.WordTokenizer.Split(String)";
    public const string TokenizerEncodeSpan = "SelfAttention.Tokenization.WordTokenizer.Encode(String, Vocabulary, Span<Int32>)";
    public const string TokenizerEncode = "SelfAttention.Tokenization.WordTokenizer.Encode(String, Vocabulary)";

    public const string ActivationsErf = "SelfAttention.Transformers.Activations.Erf(ReadOnlySpan<Single>, Span<Single>)";
    public const string ActivationsErfScalar = "SelfAttention.Transformers.Activations.Erf(Single)";
    public const string ActivationsGelu = "SelfAttention.Transformers.Activations.Gelu(ReadOnlySpan<Single>, Span<Single>)";
    public const string ActivationsGeluTanh = "SelfAttention.Transformers.Activations.GeluTanh(ReadOnlySpan<Single>, Span<Single>)";
    public const string ActivationsSilu = "SelfAttention.Transformers.Activations.Silu(ReadOnlySpan<Single>, Span<Single>)";
    public const string NaiveErf = "SelfAttention.Transformers.Reference.NaiveActivations.Erf(Double)";
    public const string NaiveErfc = "SelfAttention.Transformers.Reference.NaiveActivations.Erfc(Double)";
    public const string NaiveGelu = "SelfAttention.Transformers.Reference.NaiveActivations.Gelu(Double)";
    public const string NaiveGeluTanh = "SelfAttention.Transformers.Reference.NaiveActivations.GeluTanh(Double)";
    public const string NaiveSilu = "SelfAttention.Transformers.Reference.NaiveActivations.Silu(Double)";
    public const string NormsLayerNorm = "SelfAttention.Transformers.Norms.LayerNorm(ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Single)";
    public const string NormsRmsNorm = "SelfAttention.Transformers.Norms.RmsNorm(ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Single>, Single)";
    public const string NaiveLayerNorm = "SelfAttention.Transformers.Reference.NaiveNorms.LayerNorm(ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Double>, Single)";
    public const string NaiveRmsNorm = "SelfAttention.Transformers.Reference.NaiveNorms.RmsNorm(ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Span<Double>, Single)";
    public const string LinearCtor = "SelfAttention.Transformers.Linear(ReadOnlySpan<Single>, ReadOnlySpan<Single>, Int32, Int32, LinearWeightLayout, LinearActivation)";
    public const string LinearForward = "SelfAttention.Transformers.Linear.Forward(ReadOnlySpan<Single>, Span<Single>, Int32)";
    public const string NaiveLinearForward = "SelfAttention.Transformers.Reference.NaiveLinear.Forward(ReadOnlySpan<Single>, ReadOnlySpan<Single>, ReadOnlySpan<Single>, Int32, Int32, LinearWeightLayout, LinearActivation, Span<Double>)";
    public const string EncoderLayerCtor = "SelfAttention.Transformers.EncoderLayer(EncoderLayerWeights, EncoderLayerOptions)";
    public const string EncoderLayerForward = "SelfAttention.Transformers.EncoderLayer.Forward(ReadOnlySpan<Single>, Span<Single>, Int32, Int32, Int32)";
    public const string EncoderLayerOptionsCtor = "SelfAttention.Transformers.EncoderLayerOptions()";
    public const string EncoderLayerWeightsCtor = "SelfAttention.Transformers.EncoderLayerWeights()";
    public const string EncoderLayerWeightsCreateRandom = "SelfAttention.Transformers.EncoderLayerWeights.CreateRandom(Int32, Int32, UInt64)";
    public const string NaiveEncoderLayerForwardPacked = "SelfAttention.Transformers.Reference.NaiveEncoderLayer.Forward(EncoderLayerWeights, EncoderLayerOptions, ReadOnlySpan<Single>, Span<Double>, ReadOnlySpan<Int32>)";
    public const string EncoderLayerForwardPacked = "SelfAttention.Transformers.EncoderLayer.Forward(ReadOnlySpan<Single>, Span<Single>, ReadOnlySpan<Int32>, Int32)";
    public const string EncoderLayerAttentionWeights = "SelfAttention.Transformers.EncoderLayer.AttentionWeights(ReadOnlySpan<Single>, Span<Single>)";
    public const string EmbeddingWeightsCtor = "SelfAttention.Transformers.EmbeddingWeights()";
    public const string EmbeddingWeightsCreateRandom = "SelfAttention.Transformers.EmbeddingWeights.CreateRandom(Int32, Int32, Int32, Int32, UInt64)";
    public const string EncoderWeightsCtor = "SelfAttention.Transformers.EncoderWeights()";
    public const string EncoderWeightsCreateRandom = "SelfAttention.Transformers.EncoderWeights.CreateRandom(Int32, Int32, Int32, Int32, Int32, Int32, UInt64)";
    public const string TokenEmbeddingsCtor = "SelfAttention.Transformers.TokenEmbeddings(EmbeddingWeights, Single)";
    public const string TokenEmbeddingsForward = "SelfAttention.Transformers.TokenEmbeddings.Forward(ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, Span<Single>)";
    public const string TransformerEncoderCtor = "SelfAttention.Transformers.TransformerEncoder(EncoderWeights)";
    public const string TransformerEncoderForward = "SelfAttention.Transformers.TransformerEncoder.Forward(ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, Span<Single>, Int32)";
    public const string TransformerEncoderForwardLayers = "SelfAttention.Transformers.TransformerEncoder.Forward(ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, ReadOnlySpan<Int32>, Span<Single>, Int32, Int32)";
    public const string TransformerEncoderAttentionWeights = "SelfAttention.Transformers.TransformerEncoder.AttentionWeights(ReadOnlySpan<Int32>, Int32, Span<Single>)";
    public const string PoolingPool = "SelfAttention.Transformers.Pooling.Pool(ReadOnlySpan<Single>, ReadOnlySpan<Int32>, Int32, PoolingMode, Span<Single>)";
    public const string PoolingNormalizeL2 = "SelfAttention.Transformers.Pooling.NormalizeL2(Span<Single>, Int32)";
    public const string OnnxEncoderLoaderLoad = "SelfAttention.Transformers.OnnxEncoderLoader.Load(String)";
    public const string HuggingFaceLoad = "SelfAttention.Transformers.HuggingFaceEncoderLoader.Load(String)";
    public const string HuggingFaceSave = "SelfAttention.Transformers.HuggingFaceEncoderLoader.Save(EncoderWeights, String)";
    public const string ModelFormatExceptionCtor = "SelfAttention.Transformers.ModelFormatException(String, String, Exception)";
    public const string SafeTensorCtor = "SelfAttention.Transformers.SafeTensor(Int32[], Single[])";
    public const string SafeTensorsRead = "SelfAttention.Transformers.SafeTensors.Read(String)";
    public const string SafeTensorsWrite = "SelfAttention.Transformers.SafeTensors.Write(String, IReadOnlyDictionary<String, SafeTensor>, IReadOnlyDictionary<String, String>)";
    public const string SentenceEmbedderCtor = "SelfAttention.Transformers.SentenceEmbedder(TransformerEncoder, BertWordPieceTokenizer, PoolingMode, Boolean, Int32)";
    public const string SentenceEmbedderWarmUp = "SelfAttention.Transformers.SentenceEmbedder.WarmUp(Int32)";
    public const string SentenceEmbedderLoad = "SelfAttention.Transformers.SentenceEmbedder.Load(String, PoolingMode, Boolean, Int32)";
    public const string SentenceEmbedderEmbed = "SelfAttention.Transformers.SentenceEmbedder.Embed(String)";
    public const string SentenceEmbedderEmbedBatch = "SelfAttention.Transformers.SentenceEmbedder.Embed(ReadOnlySpan<String>, Span<Single>, Int32)";
    public const string WordPieceLoad = "SelfAttention.Transformers.BertWordPieceTokenizer.Load(String, Boolean)";
    public const string WordPieceTokenOf = "SelfAttention.Transformers.BertWordPieceTokenizer.TokenOf(Int32)";
    public const string WordPieceEncode = "SelfAttention.Transformers.BertWordPieceTokenizer.Encode(String, Span<Int32>)";
    public const string WordPieceTokenize = "SelfAttention.Transformers.BertWordPieceTokenizer.Tokenize(String, Int32)";
    public const string NaiveEncoderLayerForward = "SelfAttention.Transformers.Reference.NaiveEncoderLayer.Forward(EncoderLayerWeights, EncoderLayerOptions, ReadOnlySpan<Single>, Span<Double>, Int32, Int32)";
}
