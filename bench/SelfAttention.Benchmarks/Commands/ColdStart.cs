using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>coldstart</c> command: what a freshly started service pays on its first calls. Each measurement runs in a
/// fresh child process of this exe (so the JIT has compiled nothing yet), on one CPU where <c>taskset</c> exists
/// (so background compilation competes with the calls, as on a one-core container), single thread. A child allocates
/// and touches its buffers, optionally calls <see cref="AttentionWarmup.Run"/>, then times its first call, calls 2–10,
/// and, after several seconds of calls (past the tiered JIT's promotions), the median of many: the steady state.
/// Variants: with and without the warm-up call, each with the default JIT and with <c>DOTNET_TieredCompilation=0</c>
/// as a control; shapes BERT-base and the 4096-token decode. Every child runs <c>--repeat</c> times; the table shows
/// medians over repeats.
/// </summary>
public static class ColdStart
{
    /// <summary>The help line of the command.</summary>
    public const string Summary =
        "first call, median of calls 2-10 and steady state in fresh child processes, with and without AttentionWarmup.Run, "
        + "and with DOTNET_TieredCompilation=0 as a control";

    /// <summary>The name of the hidden command a child process runs.</summary>
    public const string ChildCommand = "coldstart-child";

    /// <summary>The shapes a child may run: <c>bert</c>, <c>decode</c>.</summary>
    public static IReadOnlyList<string> ShapeNames => [.. s_shapes.Select(s => s.Name)];

    private static readonly (string Name, AttentionShape Shape)[] s_shapes =
    [
        ("bert", new AttentionShape(1, 128, 128, 12, 64)),
        ("decode", new AttentionShape(1, 1, 4096, 32, 128)),
    ];

    private sealed record Variant(string Name, bool Warmup, bool TieringOff);

    private static readonly Variant[] s_variants =
    [
        new("tiered", Warmup: false, TieringOff: false),
        new("tiered + warm-up", Warmup: true, TieringOff: false),
        new("TC=0", Warmup: false, TieringOff: true),
        new("TC=0 + warm-up", Warmup: true, TieringOff: true),
    ];

    /// <summary>One child's figures, in microseconds.</summary>
    private sealed record Figures(double Warmup, double First, double Calls2To10, double Steady);

    /// <summary>Runs every shape × variant <paramref name="repeat"/> times in child processes and prints the table.</summary>
    public static int Run(int repeat, bool allCpus, TextWriter output)
    {
        string? taskset = allCpus ? null : FindTaskset();
        int cpu = FirstAllowedCpu();
        output.WriteLine($"cold start, fresh child process per run, single thread (MaxDegreeOfParallelism 1), {(taskset is null ? "all CPUs" : $"one CPU (taskset -c {cpu})")}, {repeat} run(s) per row, medians");
        output.WriteLine($"{"shape",-7} {"variant",-17} {"warm-up ms",10} {"1st call ms",11} {"calls 2-10 us",13} {"steady us",10} {"2-10/steady",11} {"1st/steady",10}");
        foreach (var (name, shape) in s_shapes)
        {
            foreach (var variant in s_variants)
            {
                var runs = new List<Figures>();
                for (int r = 0; r < repeat; r++)
                {
                    var figures = RunChild(taskset, cpu, name, variant);
                    if (figures is null)
                    {
                        return 1;
                    }

                    runs.Add(figures);
                }

                double warm = Median(runs.Select(f => f.Warmup)), first = Median(runs.Select(f => f.First));
                double calls = Median(runs.Select(f => f.Calls2To10)), steady = Median(runs.Select(f => f.Steady));
                string warmText = variant.Warmup ? (warm / 1000).ToString("0.0", CultureInfo.InvariantCulture) : "-";
                output.WriteLine(FormattableString.Invariant(
                    $"{name,-7} {variant.Name,-17} {warmText,10} {first / 1000,11:0.00} {calls,13:0} {steady,10:0} {calls / steady,10:0.00}x {first / steady,9:0.0}x"));
            }
        }

        return 0;
    }

    /// <summary>The child: <c>coldstart-child &lt;shape&gt; &lt;0|1&gt;</c>; prints one line, <c>RESULT warm first calls2to10 steady</c> in µs.</summary>
    public static int RunChild(string shapeName, bool warmup, TextWriter output)
    {
        var shape = s_shapes.First(s => s.Name == shapeName).Shape;
        var rng = new Random(1);
        int kvHeads = shape.Heads;
        var query = Filled(rng, shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim);
        var key = Filled(rng, shape.Batch * shape.KeyLength * kvHeads * shape.HeadDim);
        var value = Filled(rng, shape.Batch * shape.KeyLength * kvHeads * shape.HeadDim);
        var result = new float[shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim];
        Array.Fill(result, 1f);   // touch every page, so the first call does not pay for them
        var options = new AttentionOptions { MaxDegreeOfParallelism = 1 };

        double warm = 0;
        if (warmup)
        {
            long start = Stopwatch.GetTimestamp();
            AttentionWarmup.Run();
            warm = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        var clock = Stopwatch.StartNew();
        var early = new double[10];
        for (int call = 0; call < early.Length; call++)
        {
            long start = Stopwatch.GetTimestamp();
            Attention.ComputeMultiHead(query, key, value, result, shape, options);
            early[call] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        // Past the tiered JIT: its call counting, its 100 ms delay and its background compiles take over a second on one CPU.
        while (clock.Elapsed.TotalSeconds < 4)
        {
            Attention.ComputeMultiHead(query, key, value, result, shape, options);
        }

        var steady = new List<double>();
        var measure = Stopwatch.StartNew();
        while (steady.Count < 21 || (measure.Elapsed.TotalSeconds < 1 && steady.Count < 2001))
        {
            long start = Stopwatch.GetTimestamp();
            Attention.ComputeMultiHead(query, key, value, result, shape, options);
            steady.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
        }

        output.WriteLine(FormattableString.Invariant($"RESULT {warm:0.0} {early[0]:0.0} {Median(early.Skip(1)):0.0} {Median(steady):0.0}"));
        return 0;
    }

    private static Figures? RunChild(string? taskset, int cpu, string shape, Variant variant)
    {
        string self = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var childArgs = new List<string>();
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            childArgs.Add(Assembly.GetEntryAssembly()!.Location);   // run as `dotnet <dll>`
        }

        childArgs.AddRange([ChildCommand, shape, variant.Warmup ? "1" : "0"]);
        var info = new ProcessStartInfo(taskset ?? self) { RedirectStandardOutput = true, UseShellExecute = false };
        if (taskset is not null)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(cpu.ToString(CultureInfo.InvariantCulture));
            info.ArgumentList.Add(self);
        }

        foreach (string arg in childArgs)
        {
            info.ArgumentList.Add(arg);
        }

        // The child's JIT settings are the defaults unless this variant sets them; inherited overrides are cleared.
        foreach (string name in new[] { "DOTNET_TieredCompilation", "DOTNET_TieredPGO", "DOTNET_TC_QuickJitForLoops", "DOTNET_ReadyToRun" })
        {
            info.Environment.Remove(name);
        }

        if (variant.TieringOff)
        {
            info.Environment["DOTNET_TieredCompilation"] = "0";
        }

        using var child = Process.Start(info)!;
        string text = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        string? line = text.Split('\n').FirstOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (child.ExitCode != 0 || line is null)
        {
            Console.Error.WriteLine($"coldstart: the child for {shape}, {variant.Name} failed (exit {child.ExitCode}): {text.Trim()}");
            return null;
        }

        double[] v = line[7..].Split(' ').Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        return new Figures(v[0], v[1], v[2], v[3]);
    }

    private static string? FindTaskset()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string candidate = Path.Combine(directory, "taskset");
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    // The lowest CPU this process may run on (CPU 0 is not always in a container's set).
    private static int FirstAllowedCpu()
    {
        long mask = OperatingSystem.IsLinux() || OperatingSystem.IsWindows() ? (long)Process.GetCurrentProcess().ProcessorAffinity : 1;
        for (int cpu = 0; cpu < 64; cpu++)
        {
            if ((mask >> cpu & 1) != 0)
            {
                return cpu;
            }
        }

        return 0;
    }

    private static float[] Filled(Random rng, int length)
    {
        var values = new float[length];
        for (int n = 0; n < length; n++)
        {
            values[n] = (float)(rng.NextDouble() * 2 - 1);
        }

        return values;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
