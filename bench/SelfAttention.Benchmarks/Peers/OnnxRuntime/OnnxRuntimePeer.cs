using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks.Peers.OnnxRuntime;

/// <summary>The ONNX Runtime operator an <see cref="OnnxRuntimePeer"/> runs.</summary>
public enum OnnxRuntimeRoute
{
    /// <summary>
    /// <c>com.microsoft</c> <c>MultiHeadAttention</c> (contrib op): query <c>[B, nq, H·d]</c>, key <c>[B, nk, H·d]</c>,
    /// value <c>[B, nk, H·dv]</c>, attributes <c>num_heads</c>, <c>scale</c>, <c>unidirectional</c>. No grouped-query
    /// heads. Its <c>unidirectional = 1</c> masks top-left when nq ≠ nk, except that the last row sees every key.
    /// </summary>
    MultiHeadAttention,

    /// <summary>
    /// The standard ONNX <c>Attention</c> (opset 23) with 3-D inputs: Q <c>[B, nq, H·d]</c>, K <c>[B, nk, KvH·d]</c>,
    /// V <c>[B, nk, KvH·dv]</c>, attributes <c>q_num_heads</c>, <c>kv_num_heads</c> (grouped-query heads), <c>scale</c>,
    /// <c>is_causal</c>; its causal mask is aligned top-left.
    /// </summary>
    Attention,
}

/// <summary>
/// ONNX Runtime (CPU execution provider, in process) as a peer: a one-node model built in code
/// (<see cref="OnnxModel"/>) for the shape, scale, mask and thread count of the call, run through an
/// <see cref="OrtIoBinding"/> whose inputs and output are <see cref="OrtValue"/>s over the caller's own buffers, so
/// nothing is copied in or out. <c>IntraOpNumThreads</c> is the call's
/// <see cref="AttentionOptions.MaxDegreeOfParallelism"/> and <c>session.intra_op.allow_spinning = 0</c>: with spinning
/// on, ORT's idle pool threads keep the other cores busy between calls and slow everything else in the process.
/// The session is made on the first call with a new shape or options (set-up, counted as warm-up by the harnesses);
/// the bound values are remade only when the buffers' addresses change (the garbage collector moved them, or new
/// buffers), which the pinned call compares, so a steady-state call allocates nothing on the managed heap.
/// </summary>
public sealed unsafe class OnnxRuntimePeer(OnnxRuntimeRoute route) : AttentionImplementation, IDisposable
{
    /// <summary>The table name of the <see cref="OnnxRuntimeRoute.MultiHeadAttention"/> route.</summary>
    public const string MultiHeadAttentionName = "ORT/MHA";

    /// <summary>The table name of the <see cref="OnnxRuntimeRoute.Attention"/> route.</summary>
    public const string AttentionName = "ORT/Attention";

    private const string ContribDomain = "com.microsoft";

    private static readonly Lazy<string?> s_failureReason = new(LoadFailure);

    private InferenceSession? _session;
    private OrtIoBinding? _binding;
    private RunOptions? _runOptions;
    private SessionKey _sessionKey;

    // The values bound to _binding and the addresses they were made over.
    private readonly OrtValue?[] _bound = new OrtValue?[4];
    private nint _queryAddress, _keyAddress, _valueAddress, _outputAddress;

    /// <summary>The operator this instance runs.</summary>
    public OnnxRuntimeRoute Route { get; } = route;

    /// <inheritdoc/>
    public override string Name => Route == OnnxRuntimeRoute.MultiHeadAttention ? MultiHeadAttentionName : AttentionName;

    /// <inheritdoc/>
    public override bool UsesThreads => true;

    /// <inheritdoc/>
    public override string? UnavailableReason => s_failureReason.Value;

    /// <summary>The ONNX Runtime version loaded, or <see langword="null"/> when it cannot be loaded.</summary>
    public static string? Version => s_failureReason.Value is null ? OrtEnv.Instance().GetVersionString() : null;

    /// <inheritdoc/>
    public override string? UnsupportedReason(AttentionShape shape, AttentionOptions options)
    {
        if (options.Normalization != AttentionNormalization.Softmax)
        {
            return "softmax only";
        }

        if (shape.Batch == 0 || shape.QueryLength == 0 || shape.KeyLength == 0)
        {
            return "an empty dimension";
        }

        bool lengthsDiffer = shape.QueryLength != shape.KeyLength;
        if (Route == OnnxRuntimeRoute.MultiHeadAttention)
        {
            if (shape.KvHeads != shape.Heads)
            {
                return "no grouped-query heads (KvHeads ≠ Heads)";
            }

            // unidirectional = 1 with nq ≠ nk: top-left for every row but the last, which sees every key; only a
            // single query row (decode) is then aligned as ours is.
            if (options.IsCausal && lengthsDiffer && shape.QueryLength != 1)
            {
                return "unidirectional = 1 is aligned top-left when nq ≠ nk (ours: bottom-right)";
            }
        }
        else if (options.IsCausal && lengthsDiffer)
        {
            return "is_causal is aligned top-left; ours bottom-right (they agree only when nq = nk)";
        }

        return null;
    }

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options)
    {
        var sessionKey = new SessionKey(shape, options.IsCausal, options.Scale ?? 1f / MathF.Sqrt(shape.HeadDim), ThreadsOf(options));
        if (_session is null || sessionKey != _sessionKey)
        {
            CreateSession(sessionKey);
        }

        // ORT reads and writes exactly the bound extents: a short buffer must be refused before the call.
        RequireLength(query, (long)shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim, nameof(query));
        RequireLength(key, (long)shape.Batch * shape.KeyLength * shape.KvHeads * shape.HeadDim, nameof(key));
        RequireLength(value, (long)shape.Batch * shape.KeyLength * shape.KvHeads * shape.ValueDim, nameof(value));
        RequireLength(output, (long)shape.Batch * shape.QueryLength * shape.Heads * shape.ValueDim, nameof(output));
        fixed (float* q = query, k = key, v = value, o = output)
        {
            if ((nint)q != _queryAddress || (nint)k != _keyAddress || (nint)v != _valueAddress || (nint)o != _outputAddress)
            {
                Bind(q, k, v, o, shape);
            }

            _session!.RunWithBinding(_runOptions!, _binding!);
        }
    }

    /// <summary>Releases the session, the binding and the bound values.</summary>
    public void Dispose()
    {
        ReleaseBound();
        _binding?.Dispose();
        _runOptions?.Dispose();
        _session?.Dispose();
        (_binding, _runOptions, _session) = (null, null, null);
    }

    private static void RequireLength(ReadOnlySpan<float> buffer, long expected, string name)
    {
        if (buffer.Length < expected)
        {
            throw new ArgumentException($"{name} has {buffer.Length} elements; the shape needs {expected}.", name);
        }
    }

    // 0 and 1: the calling thread; −1: one per processor (AttentionOptions.MaxDegreeOfParallelism).
    private static int ThreadsOf(AttentionOptions options) =>
        options.MaxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, options.MaxDegreeOfParallelism);

    private static string? LoadFailure()
    {
        try
        {
            _ = OrtEnv.Instance().GetVersionString();
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException or OnnxRuntimeException)
        {
            return $"ONNX Runtime cannot be loaded ({e.GetType().Name}: {e.Message})";
        }
    }

    private void CreateSession(SessionKey key)
    {
        Dispose();
        byte[] model = BuildModel(key);
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = key.Threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        sessionOptions.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        _session = new InferenceSession(model, sessionOptions);
        _binding = _session.CreateIoBinding();
        _runOptions = new RunOptions();
        _sessionKey = key;
    }

    private byte[] BuildModel(SessionKey key)
    {
        var shape = key.Shape;
        long batch = shape.Batch, queryLength = shape.QueryLength, keyLength = shape.KeyLength;
        OnnxTensor[] inputs =
        [
            new(InputNames[0], [batch, queryLength, (long)shape.Heads * shape.HeadDim]),
            new(InputNames[1], [batch, keyLength, (long)shape.KvHeads * shape.HeadDim]),
            new(InputNames[2], [batch, keyLength, (long)shape.KvHeads * shape.ValueDim]),
        ];
        OnnxTensor[] outputs = [new(OutputName, [batch, queryLength, (long)shape.Heads * shape.ValueDim])];
        return Route == OnnxRuntimeRoute.MultiHeadAttention
            ? OnnxModel.SingleNode("MultiHeadAttention", ContribDomain, [("", 23), (ContribDomain, 1)], inputs, outputs,
                [OnnxAttribute.Of("num_heads", shape.Heads), OnnxAttribute.Of("scale", key.Scale), OnnxAttribute.Of("unidirectional", key.IsCausal ? 1 : 0)])
            : OnnxModel.SingleNode("Attention", "", [("", 23)], inputs, outputs,
                [OnnxAttribute.Of("q_num_heads", shape.Heads), OnnxAttribute.Of("kv_num_heads", shape.KvHeads),
                 OnnxAttribute.Of("scale", key.Scale), OnnxAttribute.Of("is_causal", key.IsCausal ? 1 : 0)]);
    }

    private string[] InputNames => Route == OnnxRuntimeRoute.MultiHeadAttention ? ["query", "key", "value"] : ["Q", "K", "V"];

    private string OutputName => Route == OnnxRuntimeRoute.MultiHeadAttention ? "output" : "Y";

    // New values over the four buffers (pinned by the caller for the call), bound in place of the old ones.
    private void Bind(float* q, float* k, float* v, float* o, AttentionShape shape)
    {
        Debug.Assert(_binding is not null);
        ReleaseBound();
        long batch = shape.Batch;
        _bound[0] = Over(q, [batch, shape.QueryLength, (long)shape.Heads * shape.HeadDim]);
        _bound[1] = Over(k, [batch, shape.KeyLength, (long)shape.KvHeads * shape.HeadDim]);
        _bound[2] = Over(v, [batch, shape.KeyLength, (long)shape.KvHeads * shape.ValueDim]);
        _bound[3] = Over(o, [batch, shape.QueryLength, (long)shape.Heads * shape.ValueDim]);
        string[] names = InputNames;
        for (int n = 0; n < 3; n++)
        {
            _binding.BindInput(names[n], _bound[n]!);
        }

        _binding.BindOutput(OutputName, _bound[3]!);
        (_queryAddress, _keyAddress, _valueAddress, _outputAddress) = ((nint)q, (nint)k, (nint)v, (nint)o);
    }

    private static OrtValue Over(float* data, long[] dimensions)
    {
        long elements = 1;
        foreach (long d in dimensions)
        {
            elements *= d;
        }

        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, dimensions,
                                                  (nint)data, elements * sizeof(float));
    }

    private void ReleaseBound()
    {
        _binding?.ClearBoundInputs();
        _binding?.ClearBoundOutputs();
        for (int n = 0; n < _bound.Length; n++)
        {
            _bound[n]?.Dispose();
            _bound[n] = null;
        }

        (_queryAddress, _keyAddress, _valueAddress, _outputAddress) = (0, 0, 0, 0);
    }

    // What a session is built for: a change of any of these builds a new one.
    private readonly record struct SessionKey(AttentionShape Shape, bool IsCausal, float Scale, int Threads);
}
