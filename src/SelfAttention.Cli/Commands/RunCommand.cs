using System.Globalization;
using SelfAttention.Cli.Arrays;
using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Walkthrough;
using SelfAttention.IO;

namespace SelfAttention.Cli.Commands;

/// <summary><c>selfattention run</c>: attention over NumPy arrays.</summary>
internal sealed class RunCommand : ICommand
{
    private const int PrintLimit = 16;

    public string Name => "run";

    public string Summary => "attention over .npy arrays: --query q.npy --key k.npy --value v.npy --heads H";

    public string Help =>
        $"""
        Usage: selfattention run --query q.npy --key k.npy --value v.npy --heads H [--kv-heads G]
                                 [--causal] [--scale S] [--normalization softmax|sum] [--threads N]
                                 [--out o.npy] [--weights w.npy]

        Multi-head scaled dot-product attention over NumPy arrays (.npy, float32 or float64, C order,
        little-endian; computed in float32). Arrays are [seq, heads·dim] or [batch, seq, heads·dim]:
          query [batch, queryLength, H·d]   key [batch, keyLength, G·d]   value [batch, keyLength, G·dv]
        Head h reads kv head h/(H/G) (grouped-query attention when G < H).

        Options:
          --query, --key, --value FILE   the inputs (required)
          --heads H               query heads (required)
          --kv-heads G            key/value heads; divides H; default H
        {AttentionOptionsReader.Help}  --out FILE              write the output [batch, queryLength, H·dv] as float32 .npy
          --weights FILE          write the weights [batch, H, queryLength, keyLength] as float32 .npy
          -h, --help              this text
        Without --out the output is printed (in full when it is small, else a summary).
        Rank-2 inputs give rank-2 output ([queryLength, H·dv]) and rank-3 weights ([H, queryLength, keyLength]).

        Exit codes: 0 success; 1 an output file could not be written; 2 bad option or bad input file
        (wrong magic, Fortran order, unsupported dtype, truncated data, shapes that do not match):
        one line on stderr and nothing written.

        Example:
          selfattention run --query q.npy --key k.npy --value v.npy --heads 12 --causal --out o.npy

        """;

    public int Run(ArgumentReader arguments, TextWriter output, TextWriter error)
    {
        string query = arguments.RequiredOption("--query");
        string key = arguments.RequiredOption("--key");
        string value = arguments.RequiredOption("--value");
        int heads = arguments.RequiredIntOption("--heads", 1);
        int? kvHeads = arguments.IntOption("--kv-heads", 1);
        AttentionOptions options = AttentionOptionsReader.Read(arguments, Name);
        string? outPath = arguments.Option("--out");
        string? weightsPath = arguments.Option("--weights");
        arguments.EnsureAllConsumed();
        if (outPath is not null && weightsPath is not null && Path.GetFullPath(outPath) == Path.GetFullPath(weightsPath))
        {
            throw new UsageException($"{Name}: --out and --weights name the same file: {outPath}");
        }

        var inputs = ArrayInputs.Read(Name, query, key, value, heads, kvHeads);
        float[] result = ArrayAttention.Compute(inputs, options, withWeights: weightsPath is not null, out float[]? weights);

        AttentionShape shape = inputs.Shape;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"attention: batch {shape.Batch}, {shape.QueryLength} queries × {shape.KeyLength} keys, {shape.Heads} heads ({shape.KvHeads} kv), head dim {shape.HeadDim}, value dim {shape.ValueDim}; {(options.IsCausal ? "causal" : "not causal")}, scale {options.Scale ?? 1 / MathF.Sqrt(shape.HeadDim):0.######}, {options.Normalization.ToString().ToLowerInvariant()}"));
        if (outPath is not null)
        {
            Npy.WriteFile(outPath, result, inputs.OutputShape);
            output.WriteLine($"wrote {outPath}: output {Npy.FormatShape(inputs.OutputShape)} float32");
        }
        else
        {
            PrintOutput(inputs, result, output);
        }

        if (weightsPath is not null)
        {
            Npy.WriteFile(weightsPath, weights, inputs.WeightsShape);
            output.WriteLine($"wrote {weightsPath}: weights {Npy.FormatShape(inputs.WeightsShape)} float32");
        }

        return ExitCodes.Success;
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
