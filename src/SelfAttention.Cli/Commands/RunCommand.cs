using System.Globalization;
using System.CommandLine;
using SelfAttention.Cli.Arrays;
using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Output;
using SelfAttention.Cli.Walkthrough;
using SelfAttention.IO;

namespace SelfAttention.Cli.Commands;

/// <summary><c>selfattention run</c>: attention over NumPy arrays.</summary>
internal sealed class RunCommand : ICommand
{
    private const int PrintLimit = 16;

    private readonly Option<string> _query = ToolOptions.Text("--query", "q.npy", "the queries [batch, queryLength, H·d] (required)", required: true);
    private readonly Option<string> _key = ToolOptions.Text("--key", "k.npy", "the keys [batch, keyLength, G·d] (required)", required: true);
    private readonly Option<string> _value = ToolOptions.Text("--value", "v.npy", "the values [batch, keyLength, G·dv] (required)", required: true);
    private readonly Option<int> _heads = ToolOptions.RequiredInt("--heads", "H", "query heads (required)", 1);
    private readonly Option<int?> _kvHeads = ToolOptions.Int("--kv-heads", "G", "key/value heads; divides H; default H", 1);
    private readonly AttentionOptionSet _attention = new();
    private readonly Option<string> _alignment = CommonOptions.Choice("--causal-alignment", "where --causal (and --window) align: bottom-right (default; KV caches, FlashAttention) or top-left (PyTorch's is_causal)", "bottom-right", "top-left");
    private readonly Option<AttentionWindow?> _window = ToolOptions.Window();
    private readonly Option<int[]?> _keyLengths = ToolOptions.IntList("--key-lengths", "a,b,…", "per sequence of the batch: attend only to its first N keys (padding); one entry per batch row", 0);
    private readonly Option<int[]?> _queryLengths = ToolOptions.IntList("--query-lengths", "a,b,…", "per sequence: query rows from N on are padding and get zeros (needs --key-lengths)", 0);
    private readonly Option<string> _mask = ToolOptions.Text("--mask", "m.npy", "a dense mask, bool (true = may attend) or float32 (added to the scores), shape [Nq, Nk], [H, Nq, Nk], [B, 1, Nq, Nk] or [B, H, Nq, Nk] (a dimension of 1 broadcasts)");
    private readonly Option<float?> _softCap = new("--softcap")
    {
        Description = "logit soft-capping C·tanh(s / C) after scaling (Gemma 2); finite and > 0",
        HelpName = "C",
        CustomParser = CommonOptions.ParsePositiveFloat,
    };

    private readonly Option<float[]?> _alibiSlopes = FloatList("--alibi-slopes", "ALiBi slopes, one per query head: score −= slope·|i + Nk − Nq − j|");
    private readonly Option<float[]?> _sinks = FloatList("--sinks", "attention-sink logits, one per query head: join each row's softmax denominator with no value (GPT-OSS)");
    private readonly Option<string> _lse = ToolOptions.Text("--lse", "lse.npy", "write each row's log-sum-exp [batch, H, queryLength] as float32 .npy (−inf for a row that sees nothing)");
    private readonly Option<string> _out = ToolOptions.Text("--out", "o.npy", "write the output [batch, queryLength, H·dv] as float32 .npy (default: print it)");
    private readonly Option<string> _weights = ToolOptions.Text("--weights", "w.npy", "write the weights [batch, H, queryLength, keyLength] as float32 .npy");

    public string Name => "run";

    public DocumentedCommand Create()
    {
        var command = new DocumentedCommand(Name, "attention over .npy arrays: --query q.npy --key k.npy --value v.npy --heads H")
        {
            Notes = """
                Multi-head scaled dot-product attention over NumPy arrays (.npy, float32 or float64, C order,
                little-endian; computed in float32). Arrays are [seq, heads·dim] or [batch, seq, heads·dim]:
                  query [batch, queryLength, H·d]   key [batch, keyLength, G·d]   value [batch, keyLength, G·dv]
                Head h reads kv head h/(H/G) (grouped-query attention when G < H).

                Without --out the output is printed (in full when it is small, else a summary).
                Rank-2 inputs give rank-2 output ([queryLength, H·dv]) and rank-3 weights ([H, queryLength, keyLength]).
                """,
            ExitCodeHelp = """
                0 success; 1 an output file cannot be written (missing or read-only folder, full disk);
                2 bad option or bad input file (wrong magic, Fortran order, unsupported dtype, truncated data, shapes
                that do not match, an output that names an input). On 1 and 2: one line on stderr, and no output
                file written (outputs go to temporary files and replace their targets together at the end).
                """,
        };
        command.Add(_query);
        command.Add(_key);
        command.Add(_value);
        command.Add(_heads);
        command.Add(_kvHeads);
        _attention.AddTo(command);
        command.Add(_alignment);
        command.Add(_window);
        command.Add(_keyLengths);
        command.Add(_queryLengths);
        command.Add(_mask);
        command.Add(_softCap);
        command.Add(_alibiSlopes);
        command.Add(_sinks);
        command.Add(_out);
        command.Add(_weights);
        command.Add(_lse);
        command.Examples.Add("selfattention run --query q.npy --key k.npy --value v.npy --heads 12 --causal --out o.npy");
        command.Examples.Add("selfattention run --query q.npy --key k.npy --value v.npy --heads 8 --causal --window 256,0 --out o.npy");
        command.Examples.Add("selfattention run --query q.npy --key k.npy --value v.npy --heads 4 --key-lengths 5,17,9 --out o.npy");
        command.Examples.Add("selfattention run --query q.npy --key k.npy --value v.npy --heads 2 --mask m.npy --lse lse.npy");
        return command;
    }

    public int Run(ParseResult parseResult, TextWriter output)
    {
        string query = parseResult.GetRequiredValue(_query);
        string key = parseResult.GetRequiredValue(_key);
        string value = parseResult.GetRequiredValue(_value);
        int heads = parseResult.GetValue(_heads);
        int? kvHeads = parseResult.GetValue(_kvHeads);
        AttentionOptions options = _attention.Read(parseResult) with
        {
            CausalAlignment = parseResult.GetValue(_alignment) == "top-left" ? CausalAlignment.TopLeft : CausalAlignment.BottomRight,
            Window = parseResult.GetValue(_window),
            SoftCap = parseResult.GetValue(_softCap),
        };
        // Array options read as empty when absent; only a given option means lengths.
        int[]? keyLengths = parseResult.GetResult(_keyLengths) is null ? null : parseResult.GetValue(_keyLengths);
        int[]? queryLengths = parseResult.GetResult(_queryLengths) is null ? null : parseResult.GetValue(_queryLengths);
        string? outPath = parseResult.GetValue(_out);
        string? weightsPath = parseResult.GetValue(_weights);
        string? maskPath = parseResult.GetValue(_mask);
        string? lsePath = parseResult.GetValue(_lse);
        float[] slopes = parseResult.GetResult(_alibiSlopes) is null ? [] : parseResult.GetValue(_alibiSlopes) ?? [];
        float[] sinks = parseResult.GetResult(_sinks) is null ? [] : parseResult.GetValue(_sinks) ?? [];
        foreach (var (option, values) in new[] { ("--alibi-slopes", slopes), ("--sinks", sinks) })
        {
            if (values.Length != 0 && values.Length != heads)
            {
                throw new UsageException($"{Name}: {option}: expected {heads} values (one per query head, --heads), got {values.Length}.");
            }
        }

        // Nothing is written unless every step succeeds: outputs that name an input (or each other) are refused
        // first, then the inputs are read and checked, then every output is reserved (folder, permission, space),
        // and only then is attention computed; the outputs replace their targets together at the end.
        var requested = new List<(string Option, string Path)>();
        if (outPath is not null)
        {
            requested.Add(("--out", outPath));
        }

        if (weightsPath is not null)
        {
            requested.Add(("--weights", weightsPath));
        }

        if (lsePath is not null)
        {
            requested.Add(("--lse", lsePath));
        }

        if (queryLengths is not null && keyLengths is null)
        {
            throw new UsageException($"{Name}: --query-lengths needs --key-lengths (the keys of each sequence).");
        }

        List<(string Option, string Path)> sources = [("--query", query), ("--key", key), ("--value", value)];
        if (maskPath is not null)
        {
            sources.Add(("--mask", maskPath));
        }

        OutputFiles.EnsureDistinct(Name, sources, requested);
        var inputs = ArrayInputs.Read(Name, query, key, value, heads, kvHeads, withWeights: weightsPath is not null);
        AttentionShape shape = inputs.Shape;
        MaskArray? mask = maskPath is null ? null : MaskArray.Read(Name, maskPath);
        AttentionMaskStrides strides = mask is null ? AttentionMaskStrides.Shared(shape.KeyLength) : mask.Strides(Name, maskPath!, shape);
        int[] lseShape = inputs.Batched ? [shape.Batch, shape.Heads, shape.QueryLength] : [shape.Heads, shape.QueryLength];
        var modifiers = new ArrayAttention.Modifiers(slopes, sinks, lsePath is null ? [] : new float[shape.Batch * shape.Heads * shape.QueryLength], mask, strides);
        using var files = new OutputFiles(Name);
        OutputFile? outFile = outPath is null ? null : files.Reserve("--out", outPath, NpyBytes(inputs.OutputShape));
        OutputFile? weightsFile = weightsPath is null ? null : files.Reserve("--weights", weightsPath, NpyBytes(inputs.WeightsShape));
        OutputFile? lseFile = lsePath is null ? null : files.Reserve("--lse", lsePath, NpyBytes(lseShape));

        float[]? weights;
        float[] result = ArrayAttention.ComputeModified(Name, inputs, options, withWeights: weightsPath is not null, keyLengths, queryLengths,
                                                        modifiers.Any ? modifiers : null, out weights);
        if (outFile is not null)
        {
            files.Write(outFile, stream => Npy.Write(stream, result, inputs.OutputShape));
        }

        if (weightsFile is not null)
        {
            files.Write(weightsFile, stream => Npy.Write(stream, weights, inputs.WeightsShape));
        }

        if (lseFile is not null)
        {
            files.Write(lseFile, stream => Npy.Write(stream, modifiers.LogSumExp, lseShape));
        }

        files.Commit();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"attention: batch {shape.Batch}, {shape.QueryLength} queries × {shape.KeyLength} keys, {shape.Heads} heads ({shape.KvHeads} kv), head dim {shape.HeadDim}, value dim {shape.ValueDim}; {(options.IsCausal ? options.CausalAlignment == CausalAlignment.TopLeft ? "causal (top-left)" : "causal" : "not causal")}{(options.Window is { } w ? $", window ({w.Left}, {w.Right})" : "")}{(keyLengths is null ? "" : $", key lengths {string.Join(',', keyLengths)}")}{(mask is null ? "" : $", {(mask.Boolean is null ? "additive" : "boolean")} mask {Npy.FormatShape(mask.Shape)}")}{(options.SoftCap is { } cap ? $", softcap {cap:G6}" : "")}{(slopes.Length > 0 ? ", ALiBi" : "")}{(sinks.Length > 0 ? ", sinks" : "")}, scale {options.Scale ?? 1 / MathF.Sqrt(shape.HeadDim):G6}, {options.Normalization.ToString().ToLowerInvariant()}"));
        if (outPath is not null)
        {
            output.WriteLine($"wrote {CliText.Echo(outPath)}: output {Npy.FormatShape(inputs.OutputShape)} float32");
        }
        else
        {
            PrintOutput(inputs, result, output);
        }

        if (weightsPath is not null)
        {
            output.WriteLine($"wrote {CliText.Echo(weightsPath)}: weights {Npy.FormatShape(inputs.WeightsShape)} float32");
        }

        if (lsePath is not null)
        {
            output.WriteLine($"wrote {CliText.Echo(lsePath)}: log-sum-exp {Npy.FormatShape(lseShape)} float32");
        }

        return ExitCodes.Success;
    }

    // A comma-separated list of finite float32 values; null when absent.
    private static Option<float[]?> FloatList(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "s1,s2,…",
        CustomParser = result =>
        {
            string text = result.Tokens[^1].Value;
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
                {
                    result.AddError($"{CommonOptions.OptionName(result)} expects comma-separated finite numbers, got '{CliText.Echo(text)}' (entry {i + 1}: '{CliText.Echo(parts[i])}').");
                    return null;
                }
            }

            return values;
        },
    };

    // The size of a float32 .npy file of `shape`: its data and a header of at most 128 bytes (reserved on disk up front).
    private static long NpyBytes(int[] shape)
    {
        long count = 1;
        foreach (int dimension in shape)
        {
            count *= dimension; // bounded: ArrayInputs checked the product against Array.MaxLength
        }

        return (count * sizeof(float)) + 128;
    }

    // Small outputs in full, one matrix per batch; large ones as a summary.
    private static void PrintOutput(ArrayInputs inputs, float[] result, TextWriter output)
    {
        AttentionShape shape = inputs.Shape;
        int rows = shape.QueryLength, columns = shape.Heads * shape.ValueDim;
        if (rows > PrintLimit || columns > PrintLimit || shape.Batch > 4)
        {
            float min = result.Length == 0 ? 0 : result.Min(), max = result.Length == 0 ? 0 : result.Max();
            double mean = result.Length == 0 ? 0 : result.Average(x => (double)x);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"output {Npy.FormatShape(inputs.OutputShape)}: min {min:0.####}, max {max:0.####}, mean {mean:0.####} (use --out o.npy to save it)"));
            return;
        }

        var rowLabels = Enumerable.Range(0, rows).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var columnLabels = LabelledMatrix.DimensionLabels(columns, "c");
        for (int b = 0; b < shape.Batch; b++)
        {
            string name = inputs.Batched ? $"output[{b}]" : "output";
            var matrix = new LabelledMatrix(name, rowLabels, columnLabels, result.AsSpan(b * rows * columns, rows * columns).ToArray());
            foreach (string line in TextRenderer.Lines(matrix))
            {
                output.WriteLine(line.TrimEnd());
            }
        }
    }
}
