using System.Globalization;
using System.Text;
using System.CommandLine;
using SelfAttention.Cli.Arrays;
using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Heatmap;
using SelfAttention.Cli.Output;
using SelfAttention.Cli.Walkthrough;
using SelfAttention.Tokenization;

namespace SelfAttention.Cli.Commands;

/// <summary><c>selfattention heatmap</c>: attention weights as an SVG heatmap, one panel per head.</summary>
internal sealed class HeatmapCommand : ICommand
{
    private const string DefaultOut = "attention.svg";

    // Bounds that keep a heatmap drawable (and --dim's seeded layer, 4·dim² weights, small).
    private const int MaxHeads = 256;
    private const int MaxDim = 1024;
    private const long MaxCells = 1 << 24;

    private readonly Option<string> _sentence = ToolOptions.Text("--sentence", "TEXT", "source: tokenize TEXT, embed it with a seeded table, add sinusoidal positions, and run a seeded multi-head layer (MultiHeadAttention.CreateRandom)");
    private readonly Option<int?> _heads = ToolOptions.Int("--heads", "H", $"heads, 1 to {MaxHeads}; default 4 with --sentence; required with --query", 1, MaxHeads);
    private readonly Option<int?> _dim = ToolOptions.Int("--dim", "D", $"--sentence: model width, a multiple of H, up to {MaxDim}; default 16", 1, MaxDim);
    private readonly Option<int?> _seed = ToolOptions.Int("--seed", "S", "--sentence: seed of the table and the layer; default 1", 0);
    private readonly Option<int?> _example = ToolOptions.Int("--example", "N", $"source: the weights of walkthrough example N (1 to {Walkthroughs.Count})", 1, Walkthroughs.Count);
    private readonly Option<string> _query = ToolOptions.Text("--query", "q.npy", "source, with --key: .npy inputs as for 'selfattention run'");
    private readonly Option<string> _key = ToolOptions.Text("--key", "k.npy", "the keys, with --query");
    private readonly Option<string> _value = ToolOptions.Text("--value", "v.npy", "the values (optional: the weights need none)");
    private readonly Option<int?> _kvHeads = ToolOptions.Int("--kv-heads", "G", "key/value heads; divides H; default H", 1, MaxHeads);
    private readonly Option<int?> _batchIndex = ToolOptions.Int("--batch-index", "B", "which sequence of a batch to draw; default 0", 0);
    private readonly Option<string> _labels = ToolOptions.Text("--labels", "a,b,c", "comma-separated query labels; also the key labels when there are as many keys");
    private readonly Option<string> _keyLabels = ToolOptions.Text("--key-labels", "x,y,z", "comma-separated key labels");
    private readonly Option<string> _out = ToolOptions.Text("--out", "FILE", $"where to write the SVG; default {DefaultOut}");
    private readonly Option<string> _model = new("--model")
    {
        Description = $"with --sentence: draw a real model's learned attention (WordPiece tokens as labels); PATH as for 'selfattention embed', default {Models.ModelSource.DefaultName}",
        HelpName = "PATH",
        Arity = ArgumentArity.ZeroOrOne,
    };

    private readonly Option<int?> _layer = ToolOptions.Int("--layer", "L", "with --model: which layer's attention, from 0; default 0", 0);
    private readonly Option<string> _values = CommonOptions.Choice("--values", "print the value in each cell; default: when a panel is at most 16×16", "on", "off");

    private readonly AttentionOptionSet _attention = new();

    public string Name => "heatmap";

    public DocumentedCommand Create()
    {
        var command = new DocumentedCommand(Name, "attention weights as an SVG heatmap (--sentence, --example N, or .npy inputs)")
        {
            Notes = $"""
                Writes the attention weights as a self-contained SVG (opens in any browser): one panel per head,
                rows are queries, columns are keys, with token labels and a colour scale. Give exactly one source:
                --sentence TEXT, --example N, or --query and --key.

                --sentence with --model draws a pretrained model's attention instead of a seeded layer's: the
                sentence's WordPiece tokens (with [CLS] and [SEP]) as labels, one panel per head of --layer.
                --causal, --scale and --normalization do not apply to --example or --model, whose steps are fixed.
                Panels wrap into a grid at most 1200 px wide (colour bar included); with --causal, masked cells are
                hatched grey and their tooltip says "masked". At most {MaxHeads} heads and {MaxCells} cells in all.
                """,
            ExitCodeHelp = """
                0 success; 1 the SVG cannot be written (missing or read-only folder, full disk);
                2 bad option or bad input file, or --out names an input. On 1 and 2: one line on stderr, no file written.
                """,
        };
        foreach (Option option in new Option[] { _sentence, _model, _layer, _heads, _dim, _seed, _example, _query, _key, _value, _kvHeads, _batchIndex, _labels, _keyLabels, _out, _values })
        {
            command.Add(option);
        }

        _attention.AddTo(command);
        command.Examples.Add("selfattention heatmap --sentence \"The cat sat on the mat\" --heads 4 --causal --out cat.svg");
        command.Examples.Add("selfattention heatmap --model --sentence \"The cat sat on the mat\" --layer 2 --out minilm.svg");
        command.Examples.Add("selfattention heatmap --example 4 --out heads.svg");
        command.Examples.Add("selfattention heatmap --query q.npy --key k.npy --heads 12 --labels the,cat,sat --out qk.svg");
        return command;
    }

    public int Run(ParseResult parseResult, TextWriter output)
    {
        string? sentence = parseResult.GetValue(_sentence);
        int? example = parseResult.GetValue(_example);
        string? query = parseResult.GetValue(_query);
        string? key = parseResult.GetValue(_key);
        string? value = parseResult.GetValue(_value);
        int? heads = parseResult.GetValue(_heads);
        int? kvHeads = parseResult.GetValue(_kvHeads);
        int? dim = parseResult.GetValue(_dim);
        int? seed = parseResult.GetValue(_seed);
        int? batchIndex = parseResult.GetValue(_batchIndex);
        string? labels = parseResult.GetValue(_labels);
        string? keyLabels = parseResult.GetValue(_keyLabels);
        string outPath = parseResult.GetValue(_out) ?? DefaultOut;
        bool? showValues = parseResult.GetValue(_values) switch
        {
            "on" => true,
            "off" => false,
            _ => null,
        };
        AttentionOptions options = _attention.Read(parseResult);

        bool model = parseResult.GetResult(_model) is not null;
        int? layer = parseResult.GetValue(_layer);
        if (model && sentence is null)
        {
            throw new UsageException($"{Name}: --model needs --sentence TEXT.");
        }

        if (!model && layer is not null)
        {
            throw new UsageException($"{Name}: --layer applies to --model only.");
        }

        if (model && (heads is not null || kvHeads is not null || dim is not null || seed is not null || options with { MaxDegreeOfParallelism = 0 } != default))
        {
            throw new UsageException($"{Name}: --heads, --kv-heads, --dim, --seed, --causal, --scale and --normalization do not apply to --model: the model fixes them.");
        }

        int sources = (sentence is null ? 0 : 1) + (example is null ? 0 : 1) + (query is null && key is null ? 0 : 1);
        if (sources != 1)
        {
            throw new UsageException($"{Name}: give exactly one source: --sentence TEXT, --example N, or --query and --key; got {sources}.");
        }

        if (sentence is null && (dim is not null || seed is not null))
        {
            throw new UsageException($"{Name}: --dim and --seed apply to --sentence only.");
        }

        if (example is not null && (heads is not null || kvHeads is not null))
        {
            throw new UsageException($"{Name}: --heads and --kv-heads do not apply to --example.");
        }

        var inputs = new List<(string Option, string Path)>();
        foreach (var (option, path) in new[] { ("--query", query), ("--key", key), ("--value", value) })
        {
            if (path is not null)
            {
                inputs.Add((option, path));
            }
        }

        OutputFiles.EnsureDistinct(Name, inputs, [("--out", outPath)]);

        // The SVG's file is reserved once the inputs are read and checked, before anything is computed; it replaces
        // the target only when the whole document is ready.
        using var files = new OutputFiles(Name);
        OutputFile? file = null;
        void Reserve() => file = files.Reserve("--out", outPath, expectedBytes: 0);

        (IReadOnlyList<HeatmapPanel> panels, string title, string caption) = model
            ? FromModel(sentence!, parseResult.GetValue(_model), layer ?? 0, Reserve)
            : sentence is not null
            ? FromSentence(sentence, heads ?? 4, dim ?? 16, (ulong)(seed ?? 1), options, Reserve)
            : example is { } number ? FromExample(number, Reserve)
            : FromArrays(query, key, value, heads, kvHeads, batchIndex ?? 0, labels, keyLabels, options, Reserve);
        string svg = SvgHeatmap.Render(panels, new HeatmapOptions { Title = title, Caption = caption, ShowValues = showValues });
        byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(svg);
        files.Write(file!, stream => stream.Write(bytes));
        files.Commit();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {CliText.Echo(outPath)}: {panels.Count} panel{(panels.Count == 1 ? "" : "s")}, {panels[0].Rows} × {panels[0].Columns}, {bytes.Length / 1024.0:0.#} KiB"));
        return ExitCodes.Success;
    }

    private (IReadOnlyList<HeatmapPanel>, string, string) FromSentence(string sentence, int heads, int dim, ulong seed, AttentionOptions options, Action reserve)
    {
        if (dim % heads != 0)
        {
            throw new UsageException($"{Name}: --dim {dim} must be a multiple of --heads {heads}.");
        }

        var tokenizer = new WordTokenizer(lowercase: false);
        string[] tokens = tokenizer.Split(sentence).ToArray();
        if (tokens.Length == 0)
        {
            throw new UsageException($"{Name}: --sentence has no words to attend over.");
        }

        EnsureDrawable(heads, tokens.Length, tokens.Length);
        reserve();
        var vocabulary = Vocabulary.Build([sentence], tokenizer);
        int[] ids = tokenizer.Encode(sentence, vocabulary);
        int n = ids.Length;
        var x = new float[n * dim];
        EmbeddingTable.CreateRandom(vocabulary.Count, dim, seed).Lookup(ids, x);
        PositionalEncoding.AddSinusoidal(x, n, dim);
        var layer = MultiHeadAttention.CreateRandom(dim, heads, seed);
        var layerOutput = new float[n * dim];
        var weights = new float[heads * n * n];
        try
        {
            layer.Forward(x, x, layerOutput, weights, AttentionWeightsMode.PerHead, 1, n, n, options);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{Name}: the library refused this sentence: {e.Message}");
        }

        bool[]? masked = options.IsCausal ? HeatmapPanel.CausalMask(n, n) : null;
        var panels = Enumerable.Range(0, heads)
            .Select(h => new HeatmapPanel($"head {h}", tokens, tokens, weights.AsSpan(h * n * n, n * n).ToArray()) { Masked = masked })
            .ToArray();
        string title = $"\"{Shorten(sentence)}\"";
        string caption = string.Create(CultureInfo.InvariantCulture,
            $"rows: queries, columns: keys · {heads} heads of {dim / heads} dims, seeded layer (seed {seed}) · {Describe(options)}");
        return (panels, title, caption);
    }

    private (IReadOnlyList<HeatmapPanel>, string, string) FromModel(string sentence, string? path, int layer, Action reserve)
    {
        if (string.IsNullOrWhiteSpace(sentence))
        {
            throw new UsageException($"{Name}: --sentence is empty; expected some text.");
        }

        Transformers.SentenceEmbedder embedder = Models.ModelSource.Load(Name, path, out string modelName);
        Transformers.TransformerEncoder encoder = embedder.Encoder;
        if (layer >= encoder.Layers.Count)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture, $"{Name}: --layer {layer} is out of range: the model has layers 0 to {encoder.Layers.Count - 1}."));
        }

        string[] tokens = embedder.Tokenizer.Tokenize(sentence, embedder.MaxTokens);
        var ids = new int[tokens.Length];
        embedder.Tokenizer.Encode(sentence, ids);
        int n = ids.Length, heads = encoder.Options.Heads;
        EnsureDrawable(heads, n, n);
        reserve();
        var weights = new float[heads * n * n];
        encoder.AttentionWeights(ids, layer, weights);
        var panels = Enumerable.Range(0, heads)
            .Select(h => new HeatmapPanel($"head {h}", tokens, tokens, weights.AsSpan(h * n * n, n * n).ToArray()))
            .ToArray();
        string caption = string.Create(CultureInfo.InvariantCulture,
            $"rows: queries, columns: keys · {CliText.Echo(modelName, 60)}, layer {layer} of {encoder.Layers.Count} · {heads} heads of {encoder.ModelDim / heads} dims · learned weights, softmax");
        return (panels, $"\"{Shorten(sentence)}\"", caption);
    }

    private static (IReadOnlyList<HeatmapPanel>, string, string) FromExample(int number, Action reserve)
    {
        reserve();
        var example = Walkthroughs.Build(number);
        var panels = example.Steps
            .SelectMany(step => step.Matrices.Where(m => m.IsAttentionWeights)
                .Select(m => new HeatmapPanel(m.Name == "weights" ? step.Title : m.Name, m.RowLabels, m.ColumnLabels, m.Values)))
            .ToArray();
        return (panels, $"Example {number}: \"{example.Sentence}\"", $"{example.Title} · rows: queries, columns: keys");
    }

    private (IReadOnlyList<HeatmapPanel>, string, string) FromArrays(string? query, string? key, string? value, int? heads, int? kvHeads,
                                                                    int batchIndex, string? labels, string? keyLabels, AttentionOptions options, Action reserve)
    {
        if (query is null || key is null || heads is null)
        {
            throw new UsageException($"{Name}: .npy input needs --query, --key and --heads.");
        }

        var inputs = ArrayInputs.Read(Name, query, key, value, heads.Value, kvHeads, withWeights: true);
        AttentionShape shape = inputs.Shape;
        if (batchIndex >= shape.Batch)
        {
            throw new UsageException($"{Name}: --batch-index {batchIndex} is out of range: the inputs have batch {shape.Batch}.");
        }

        int nq = shape.QueryLength, nk = shape.KeyLength;
        if (nq == 0 || nk == 0)
        {
            throw new UsageException($"{Name}: nothing to draw: {nq} queries × {nk} keys.");
        }

        EnsureDrawable(shape.Heads, nq, nk);
        string[] rowLabels = Labels("--labels", labels, nq);
        string[] columnLabels = keyLabels is not null ? Labels("--key-labels", keyLabels, nk)
                              : labels is not null && nk == nq ? rowLabels
                              : Labels("--key-labels", null, nk);
        reserve();
        ArrayAttention.Compute(Name, inputs, options, withWeights: true, out float[]? weights);
        bool[]? masked = options.IsCausal ? HeatmapPanel.CausalMask(nq, nk) : null;
        var panels = Enumerable.Range(0, shape.Heads)
            .Select(h => new HeatmapPanel($"head {h}", rowLabels, columnLabels,
                                          weights!.AsSpan((batchIndex * shape.Heads + h) * nq * nk, nq * nk).ToArray()) { Masked = masked })
            .ToArray();
        string batch = inputs.Batched ? $"[{batchIndex}]" : "";
        return (panels, $"{CliText.Echo(Path.GetFileName(query), 60)}{batch} · {CliText.Echo(Path.GetFileName(key), 60)}{batch}",
                $"rows: queries, columns: keys · {shape.Heads} heads ({shape.KvHeads} kv) of {shape.HeadDim} dims · {Describe(options)}");
    }

    // A heatmap is for looking at: at most MaxHeads panels and MaxCells cells in all, so a big input is refused
    // before its weights are computed rather than drawn into a document no viewer opens.
    private void EnsureDrawable(int heads, int rows, int columns)
    {
        if (heads > MaxHeads)
        {
            throw new UsageException($"{Name}: {heads} heads is too many panels to draw: at most {MaxHeads}.");
        }

        long cells = (long)heads * rows * columns;
        if (cells > MaxCells)
        {
            throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: too large to draw: {heads} heads × {rows} queries × {columns} keys = {cells} cells; at most {MaxCells} (slice the inputs, or use 'selfattention run --weights')."));
        }
    }

    private string[] Labels(string option, string? list, int count)
    {
        if (list is null)
        {
            return Enumerable.Range(0, count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }

        string[] labels = list.Split(',', StringSplitOptions.TrimEntries);
        if (labels.Length != count)
        {
            throw new UsageException($"{Name}: {option}: expected {count} labels, got {labels.Length}.");
        }

        return labels;
    }

    private static string Describe(AttentionOptions options) =>
        string.Join(", ", new[]
        {
            options.IsCausal ? "causal" : "not causal",
            options.Scale is { } scale ? string.Create(CultureInfo.InvariantCulture, $"scale {scale:G4}") : "scale 1/√d",
            options.Normalization == AttentionNormalization.Sum ? "divide by the sum" : "softmax",
        });

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
