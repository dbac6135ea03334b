using System.CommandLine;
using SelfAttention.Benchmarks;
using SelfAttention.Benchmarks.Bdn;
using SelfAttention.Benchmarks.Commands;
using SelfAttention.CommandLine;
using SelfAttention.Comparison.Implementations;
using SelfAttention.Comparison.Quick;

// dotnet run -c Release --project bench/SelfAttention.Benchmarks -- <command> [options]
var app = new CommandLineApp("SelfAttention.Benchmarks", "SelfAttention benchmarks: the quick table, BenchmarkDotNet, and the machine controls.",
                             typeof(BenchmarkRegistry).Assembly.GetName().Version?.ToString(3) ?? "0.0.0")
{
    Notes = "Run from a clone: dotnet run -c Release --project bench/SelfAttention.Benchmarks -- COMMAND [options]",
    ExitCodeHelp = "0 success; 1 an implementation failed validation or a benchmark failed; 2 bad command line.",
};
app.Examples.Add("quick --impl auto,ort,openblas --shapes bert,decode");
app.Examples.Add("bdn --filter '*BertBase*' --job short");

app.Add(QuickCommand.Create(BenchmarkRegistry.Implementations));
app.Add(BdnCommand.Create());
app.Add(Simple("peak", "the FMA-peak and streaming-read controls alone", "peak", output =>
{
    output.WriteLine($"vector width {MachineControls.VectorWidth}");
    output.WriteLine($"FMA peak, one core, 12 accumulators: {MachineControls.MeasureFmaPeak():0.0} GFLOP/s");
    output.WriteLine($"streaming read, one core, 256 MiB:  {MachineControls.MeasureStreamingRead():0.0} GB/s");
    return ExitCodes.Success;
}));
app.Add(Simple("exp", "the fused float exp against TensorPrimitives.Exp, and its error", "exp", ExpComparison.Run));
app.Add(Simple("gemm", "the projection GEMM against OpenBLAS cblas_sgemm", "gemm", GemmComparison.Run));
app.Add(Simple("layer", "a MultiHeadAttention forward pass at BERT-base", "layer", LayerComparison.Run));
app.Add(Simple("linear", "Linear (weights packed once, fused bias and GELU) against the per-call GEMM, MiniLM sizes", "linear", LinearComparison.Run));
app.Add(Simple("model", "all-MiniLM-L6-v2 sentence embeddings against ONNX Runtime on the same model, whole pass", "model", ModelComparison.Run));
app.Add(Simple("masks", "what each mask and score modifier costs against the unmasked call, at (12, 512, 512, 64)", "masks", MaskComparison.Run));
app.Add(Simple("cache", "a decode step against a 4096-token KvCache, float and Half", "cache", CacheComparison.Run));
app.Add(ColdStartCommand());
app.Add(ColdStartChildCommand());
app.Add(Simple("list", "implementations and shapes", "list", output =>
{
    output.WriteLine($"implementations: {string.Join(", ", BenchmarkRegistry.Implementations.Names)}");
    output.WriteLine($"shapes: {string.Join("; ", BenchmarkShape.All.Select(s => $"{s.Name} ({string.Join("/", s.Aliases)}) {s.Dimensions}"))}");
    return ExitCodes.Success;
}));
app.Add(CompletionCommand.Create(app.Name));
return app.Run(args, Console.Out, Console.Error);

// A command with no options of its own.
static DocumentedCommand Simple(string name, string description, string example, Func<TextWriter, int> run)
{
    var command = new DocumentedCommand(name, description);
    command.Examples.Add(example);
    command.SetAction(parseResult => run(parseResult.InvocationConfiguration.Output));
    return command;
}

static DocumentedCommand ColdStartCommand()
{
    var repeat = new Option<int>("--repeat")
    {
        Description = "runs per cell, 1 to 1000; the table shows medians (default 3)",
        HelpName = "N",
        DefaultValueFactory = _ => 3,
        CustomParser = result => CommonOptions.ParseInt(result, 1, 1000),
    };
    var allCpus = new Option<bool>("--all-cpus") { Description = "let the children use every CPU (default: one, through taskset)", Arity = ArgumentArity.Zero };
    var command = new DocumentedCommand("coldstart", ColdStart.Summary)
    {
        Notes = "Each child runs on one CPU (taskset) unless --all-cpus, single thread.",
        ExitCodeHelp = "0 success; 1 a child process failed; 2 bad command line.",
    };
    command.Add(repeat);
    command.Add(allCpus);
    command.Examples.Add("coldstart --repeat 5");
    command.SetAction(parseResult => ColdStart.Run(parseResult.GetValue(repeat), parseResult.GetValue(allCpus), parseResult.InvocationConfiguration.Output));
    return command;
}

// What coldstart starts in each child process: not for users, so hidden from help and completion.
static DocumentedCommand ColdStartChildCommand()
{
    var shape = new Argument<string>("shape") { Description = string.Join(" or ", ColdStart.ShapeNames) };
    shape.Validators.Add(result =>
    {
        if (!ColdStart.ShapeNames.Contains(result.Tokens[0].Value))
        {
            result.AddError($"the shape is {CommonOptions.Alternatives(ColdStart.ShapeNames)}, got '{CliText.Echo(result.Tokens[0].Value)}'.");
        }
    });
    var warmup = new Argument<string>("warmup") { Description = "1 to call AttentionWarmup.Run first, 0 not to" };
    warmup.Validators.Add(result =>
    {
        if (result.Tokens[0].Value is not ("0" or "1"))
        {
            result.AddError($"warmup is 0 or 1, got '{CliText.Echo(result.Tokens[0].Value)}'.");
        }
    });
    var command = new DocumentedCommand(ColdStart.ChildCommand, "one cold-start measurement (started by coldstart)") { Hidden = true };
    command.Add(shape);
    command.Add(warmup);
    command.Examples.Add($"{ColdStart.ChildCommand} bert 1");
    command.SetAction(parseResult => ColdStart.RunChild(parseResult.GetRequiredValue(shape), parseResult.GetRequiredValue(warmup) == "1", parseResult.InvocationConfiguration.Output));
    return command;
}
