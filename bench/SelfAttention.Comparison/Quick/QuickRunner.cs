using System.Diagnostics;
using System.Runtime;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SelfAttention.Comparison.Implementations;
using SelfAttention.Comparison.Peers;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// The quick harness. In order: the machine controls; every implementation validated in full against the oracle on
/// small shapes (a failure is never timed); then per shape a spot check of the last query rows against the oracle,
/// a warm-up, and timed rounds. The warm-up lasts until every implementation has run for at least
/// <see cref="QuickOptions.WarmupSeconds"/> over the run and the JIT has compiled nothing for a while: the tiered JIT
/// recompiles hot methods late, and a short warm-up times unoptimised code (0.9 instead of 15.5 GFLOP/s here). The
/// timed rounds alternate the implementations round-robin, each round timing a batch of calls sized to about 30 ms,
/// and the figure is the median per-call time over the rounds, so noise from other processes hits every
/// implementation alike and is voted out.
/// </summary>
/// <example>
/// A command line's whole <c>bench</c> command; exit codes 0, 1 (an implementation failed validation), 2 (bad options):
/// <code>
/// QuickOptions options;
/// try
/// {
///     options = QuickOptions.Parse(args);
/// }
/// catch (ArgumentException e)
/// {
///     Console.Error.WriteLine($"bench: {e.Message}");
///     Console.Error.WriteLine(QuickOptions.OptionsUsage);
///     return 2;
/// }
///
/// return new QuickRunner(options, Console.Out).Run();
/// </code>
/// </example>
public sealed class QuickRunner
{
    private const double TimedBatchSeconds = 0.03;
    private const double WarmupBatchSeconds = 0.1;
    private const double JitQuietSeconds = 0.25;
    private const double MaxQuietWaitSeconds = 3;
    private const int MinRounds = 3;
    private const int MaxRounds = 31;
    private const int CheckedRows = 8;

    private readonly QuickOptions _options;
    private readonly TextWriter _log;
    private readonly ImplementationRegistry _registry;

    // Warm-up seconds per implementation, accumulated over the whole run.
    private readonly Dictionary<string, double> _warmedSeconds = [];

    /// <summary>Prepares a run; nothing is measured before <see cref="Run"/>.</summary>
    /// <param name="options">What to time (read by <see cref="QuickCommand"/>).</param>
    /// <param name="log">Where the progress lines and the table go, as they come.</param>
    /// <param name="registry">The implementations to validate and time; <see cref="ImplementationRegistry.Default"/> when
    /// <see langword="null"/>. Use the registry the options were parsed with.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> or <paramref name="log"/> is <see langword="null"/>.</exception>
    public QuickRunner(QuickOptions options, TextWriter log, ImplementationRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(log);
        _options = options;
        _log = log;
        _registry = registry ?? ImplementationRegistry.Default;
    }

    /// <summary>
    /// Runs everything, writing to the log as it goes, and prints the table. Takes about <see cref="QuickOptions.Seconds"/>
    /// plus the controls and the validation (a few seconds), and longer when the first calls alone exceed the budget.
    /// </summary>
    /// <returns>The process exit code: 0, or 1 when an implementation failed validation (it is reported and not timed).</returns>
    public int Run()
    {
        var clock = Stopwatch.StartNew();
        _log.WriteLine($"SelfAttention quick benchmark: .NET {Environment.Version}, {RuntimeInformation.OSDescription.Trim()}, "
                       + $"{Environment.ProcessorCount} logical CPUs, {MachineControls.VectorWidth}, "
                       + $"{(GCSettings.IsServerGC ? "server" : "workstation")} GC, {CompilationMode()}");
        _log.WriteLine($"options: threads {_options.Threads}, {(_options.Causal ? "causal" : "not causal")}, budget {_options.Seconds:0} s, "
                       + $"warm-up ≥ {_options.WarmupSeconds:0.0#} s per implementation");

        MachineFigures? machine = null;
        if (_options.Peak)
        {
            machine = new MachineFigures(MachineControls.MeasureFmaPeak(), MachineControls.MeasureStreamingRead());
            _log.WriteLine($"controls: FMA peak {machine.FmaPeak:0.0} GFLOP/s ({MachineControls.VectorWidth}, one core, 12 accumulators); "
                           + $"streaming read {machine.StreamingRead:0.0} GB/s (one core, 256 MiB); best of several");
            GC.Collect();
        }

        var implementations = SelectAndValidate(out bool anyFailed);
        WarmHarness();
        var measurements = new List<Measurement>();
        var notes = new List<string>();
        double start = clock.Elapsed.TotalSeconds;
        for (int s = 0; s < _options.Shapes.Count; s++)
        {
            double remaining = Math.Max(0, _options.Seconds - (clock.Elapsed.TotalSeconds - start));
            var shape = _options.Shapes[s];
            long shapeStart = Stopwatch.GetTimestamp();
            measurements.AddRange(MeasureShape(shape, implementations, remaining / (_options.Shapes.Count - s), notes, ref anyFailed, out string phases));
            _log.WriteLine($"  {shape.Name,-10} {Stopwatch.GetElapsedTime(shapeStart).TotalSeconds,5:0.0} s: {phases}");
        }

        _log.WriteLine();
        new QuickReport(_options, machine, measurements, implementations, _registry.RatioColumns).Write(_log);
        foreach (string note in notes)
        {
            _log.WriteLine($"note: {note}");
        }

        _log.WriteLine($"total {clock.Elapsed.TotalSeconds:0.0} s");
        return anyFailed ? 1 : 0;
    }

    // A check whose implementation throws fails with the exception as its description; the run goes on without it.
    private static CheckResult Guarded(Func<CheckResult> check)
    {
        try
        {
            return check();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new CheckResult(double.NaN, 1, $"threw {e.GetType().Name}: {e.Message}");
        }
    }

    // NativeAOT compiles everything ahead of time: no tiers to wait for (JitInfo then counts nothing).
    private static string CompilationMode()
    {
        if (!RuntimeFeature.IsDynamicCodeCompiled)
        {
            return "ahead-of-time compiled (NativeAOT)";
        }

        bool tiered = AppContext.TryGetSwitch("System.Runtime.TieredCompilation", out bool enabled) ? enabled
                      : Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") != "0";
        return $"tiered compilation {(tiered ? "on" : "off")}";
    }

    // The selected implementations that are available and match the oracle on every small shape.
    private List<AttentionImplementation> SelectAndValidate(out bool anyFailed)
    {
        anyFailed = false;
        var passed = new List<AttentionImplementation>();
        _log.WriteLine($"validation against {NaiveImplementation.BaselineName} (tolerance {OutputCheck.AbsoluteTolerance:0e+0} + {OutputCheck.RelativeTolerance:0e+0}·|ref|) on "
                       + string.Join("; ", OutputCheck.SmallShapes.Select(s => s.Name)) + ":");
        foreach (var implementation in _registry.CreateAll())
        {
            bool selected = implementation.Name == NaiveImplementation.BaselineName || _options.Implementations is null
                            || _options.Implementations.Any(p => QuickOptions.Matches(implementation.Name, p));
            if (!selected)
            {
                continue;
            }

            if (implementation.UnavailableReason is { } reason)
            {
                _log.WriteLine($"  {implementation.Name,-20} skipped: {reason}");
                continue;
            }

            if (implementation.Name == NaiveImplementation.BaselineName)
            {
                _log.WriteLine($"  {implementation.Name,-20} the oracle");
                passed.Add(implementation);
                continue;
            }

            CheckResult worst = default;
            string? failedShape = null;
            var unserved = new List<string>();
            foreach (var (name, shape) in OutputCheck.SmallShapes)
            {
                if (implementation.UnsupportedReason(shape, _options.AttentionOptions) is { } unsupported)
                {
                    unserved.Add($"{name} ({unsupported})");
                    continue;
                }

                var result = Guarded(() => OutputCheck.Validate(implementation, shape, _options.AttentionOptions));
                if (!result.Passed)
                {
                    (worst, failedShape) = (result, name);
                    break;
                }

                worst = result.MaxAbsDiff >= worst.MaxAbsDiff ? result : worst;
            }

            if (unserved.Count == OutputCheck.SmallShapes.Count)
            {
                _log.WriteLine($"  {implementation.Name,-20} skipped: serves none of the small shapes: {string.Join("; ", unserved)}");
            }
            else if (failedShape is null)
            {
                string notServed = unserved.Count == 0 ? "" : $"; not served: {string.Join("; ", unserved)}";
                _log.WriteLine($"  {implementation.Name,-20} ok, {worst}{notServed}");
                passed.Add(implementation);
            }
            else
            {
                anyFailed = true;
                _log.WriteLine($"  {implementation.Name,-20} NOT TIMED: at {failedShape} {worst}");
            }
        }

        if (OpenBlasLibrary.FailureReason is null && passed.Any(i => i.Name == OpenBlasPeer.PeerName))
        {
            _log.WriteLine($"OpenBLAS: {OpenBlasLibrary.Description}");
        }

        return passed;
    }

    private List<Measurement> MeasureShape(BenchmarkShape shape, IReadOnlyList<AttentionImplementation> implementations,
                                           double budgetSeconds, List<string> notes, ref bool anyFailed, out string phases)
    {
        long shapeStart = Stopwatch.GetTimestamp();
        var buffers = new AttentionBuffers(shape.Shape);
        var attentionOptions = _options.AttentionOptions;
        var reference = new LastRowsReference(buffers, attentionOptions, CheckedRows);
        var measurements = new List<Measurement>();
        var participants = new List<Participant>();

        // Spot check before any timing: the first call's last rows against the oracle's.
        long jitBeforeChecks = System.Runtime.JitInfo.GetCompiledMethodCount();
        foreach (var implementation in implementations)
        {
            if (implementation.IsSlow && !shape.IncludesSlowImplementations)
            {
                continue;
            }

            if (implementation.UnsupportedReason(shape.Shape, attentionOptions) is { } unsupported)
            {
                notes.Add($"{implementation.Name} at {shape.Name}: skipped, {unsupported}");
                continue;
            }

            double first = 0;
            var check = Guarded(() =>
            {
                implementation.Prepare(shape.Shape);
                Array.Fill(buffers.Output, float.NaN);
                long callStart = Stopwatch.GetTimestamp();
                buffers.Run(implementation, attentionOptions);
                first = Stopwatch.GetElapsedTime(callStart).TotalSeconds;
                return reference.Check(buffers.Output);
            });
            if (!check.Passed)
            {
                anyFailed = true;
                notes.Add($"{implementation.Name} at {shape.Name}: NOT TIMED, last {reference.Rows} rows {check}");
                measurements.Add(new Measurement(shape, implementation.Name, check, double.NaN, double.NaN, 0, 0, 0));
                continue;
            }

            AddWarm(implementation.Name, first);
            participants.Add(new Participant(implementation, check, first));
        }

        // A decode shape is read against its own K and V: the read control joins the rounds (not checked: it computes nothing).
        if (shape.IsDecode && _options.Peak)
        {
            var control = new KeyValueReadControl();
            long callStart = Stopwatch.GetTimestamp();
            buffers.Run(control, attentionOptions);
            double first = Stopwatch.GetElapsedTime(callStart).TotalSeconds;
            AddWarm(control.Name, first);
            participants.Add(new Participant(control, default, first));
        }

        // The first calls count as warm-up; when they took long enough without the JIT compiling anything, they are all of it.
        double checkSeconds = Stopwatch.GetElapsedTime(shapeStart).TotalSeconds;
        bool checksQuiet = System.Runtime.JitInfo.GetCompiledMethodCount() == jitBeforeChecks && checkSeconds >= JitQuietSeconds;
        int warmRounds = 0;
        if (!(checksQuiet && participants.TrueForAll(p => _warmedSeconds[p.Implementation.Name] >= _options.WarmupSeconds)))
        {
            warmRounds = Warm(buffers, participants, attentionOptions, WarmupBatchSeconds, _options.WarmupSeconds, 0, MaxQuietWaitSeconds);
        }

        double warmSeconds = Stopwatch.GetElapsedTime(shapeStart).TotalSeconds - checkSeconds;
        double timingBudget = Math.Max(0, budgetSeconds - Stopwatch.GetElapsedTime(shapeStart).TotalSeconds);
        long timingStart = Stopwatch.GetTimestamp();
        int jitDuringTiming = Time(buffers, participants, attentionOptions, TimedBatchSeconds, timingBudget);
        phases = $"set-up and checks {checkSeconds:0.0} s, warm-up {warmSeconds:0.0} s ({warmRounds} rounds), "
                 + $"timing {Stopwatch.GetElapsedTime(timingStart).TotalSeconds:0.0} s ({participants.FirstOrDefault()?.RoundTimes.Count ?? 0} rounds)";
        if (jitDuringTiming > 0)
        {
            notes.Add($"{shape.Name}: the JIT compiled {jitDuringTiming} methods while timed batches ran (late tier-ups of any code: harness, peers' libraries, kernels; the medians vote a late one out)");
        }

        foreach (var p in participants)
        {
            double[] times = p.RoundTimes.ToArray();
            double median = Median(times);
            double spread = Median(Array.ConvertAll(times, t => Math.Abs(t - median))) / median;
            measurements.Add(new Measurement(shape, p.Implementation.Name, p.Check, median, spread, times.Length, p.CallsPerRound,
                                             p.AllocatedBytesPerCall));
        }

        return measurements;
    }

    // The harness's loop methods are compiled fully optimised at once (AggressiveOptimization: no tiers, no on-stack
    // replacement), and this runs them on two no-op implementations with microsecond batches for half a second, so that
    // the runtime methods they call are tiered up too before any real warm-up: the JIT-quiet test then sees the
    // implementations' code, not the harness's.
    private void WarmHarness()
    {
        var buffers = new AttentionBuffers(new AttentionShape(1, 1, 1, 1, 1));
        var participants = new List<Participant> { new(new NoOpImplementation(), default, 1e-7), new(new NoOpImplementation(), default, 1e-7) };
        Warm(buffers, participants, default, batchSeconds: 1e-6, minimumWarmSeconds: 0, minimumWallSeconds: 0.5, maxSeconds: 0.5);
        Time(buffers, participants, default, batchSeconds: 1e-6, budgetSeconds: 0);
        _warmedSeconds.Remove(NoOpImplementation.NoOpName);
    }

    // Round-robin rounds until every implementation has warmed long enough over the run and the JIT has gone quiet
    // (or maxSeconds have passed: a peer's library may keep tiering up its own methods for a while).
    // The first calls (the spot checks) have counted already; this runs at least one round more. Returns the rounds run.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Warm(AttentionBuffers buffers, List<Participant> participants, AttentionOptions attentionOptions,
                     double batchSeconds, double minimumWarmSeconds, double minimumWallSeconds, double maxSeconds)
    {
        var clock = Stopwatch.StartNew();
        long jitCount = System.Runtime.JitInfo.GetCompiledMethodCount();
        double lastJitChange = 0;
        for (int round = 0; ; round++)
        {
            foreach (var p in participants)
            {
                p.CallsPerRound = BatchSize(p.SecondsPerCall, batchSeconds);
            }

            RunRound(buffers, participants, attentionOptions, round, timed: false);
            long count = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (count != jitCount)
            {
                (jitCount, lastJitChange) = (count, clock.Elapsed.TotalSeconds);
            }

            double elapsed = clock.Elapsed.TotalSeconds;
            bool warmed = elapsed >= minimumWallSeconds && participants.TrueForAll(p => _warmedSeconds[p.Implementation.Name] >= minimumWarmSeconds);
            bool quiet = elapsed - lastJitChange >= JitQuietSeconds;
            if (warmed && (quiet || elapsed >= maxSeconds))
            {
                return round + 1;
            }
        }
    }

    // Timed rounds, alternating; returns how many methods the JIT compiled (on any thread) while a timed batch ran.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Time(AttentionBuffers buffers, List<Participant> participants, AttentionOptions attentionOptions, double batchSeconds, double budgetSeconds)
    {
        foreach (var p in participants)
        {
            p.CallsPerRound = BatchSize(p.SecondsPerCall, batchSeconds);
        }

        var clock = Stopwatch.StartNew();
        int compiled = 0;
        for (int round = 0; round < MaxRounds && (round < MinRounds || clock.Elapsed.TotalSeconds < budgetSeconds); round++)
        {
            compiled += RunRound(buffers, participants, attentionOptions, round, timed: true);
        }

        return compiled;
    }

    // One batch per participant, starting from a different one each round.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int RunRound(AttentionBuffers buffers, List<Participant> participants, AttentionOptions attentionOptions, int round, bool timed)
    {
        int compiled = 0;
        for (int n = 0; n < participants.Count; n++)
        {
            var p = participants[(n + round) % participants.Count];
            long jitBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            double seconds = RunBatch(buffers, p.Implementation, attentionOptions, p.CallsPerRound);
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            compiled += (int)(System.Runtime.JitInfo.GetCompiledMethodCount() - jitBefore);
            p.SecondsPerCall = seconds / p.CallsPerRound;
            if (timed)
            {
                p.RoundTimes.Add(p.SecondsPerCall);
                p.AllocatedBytesPerCall = Math.Min(p.AllocatedBytesPerCall, (allocated + p.CallsPerRound - 1) / p.CallsPerRound);
            }
            else
            {
                AddWarm(p.Implementation.Name, seconds);
            }
        }

        return compiled;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static long BatchSize(double secondsPerCall, double target) =>
        Math.Clamp((long)Math.Round(target / Math.Max(secondsPerCall, 1e-9)), 1, 10_000_000);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static double RunBatch(AttentionBuffers buffers, AttentionImplementation implementation, AttentionOptions attentionOptions, long calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (long c = 0; c < calls; c++)
        {
            implementation.Run(buffers.Query, buffers.Key, buffers.Value, buffers.Output, buffers.Shape, attentionOptions);
        }

        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AddWarm(string name, double seconds) =>
        _warmedSeconds[name] = _warmedSeconds.GetValueOrDefault(name) + seconds;

    private static double Median(double[] values)
    {
        if (values.Length == 0)
        {
            return double.NaN;
        }

        double[] sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private sealed class NoOpImplementation : AttentionImplementation
    {
        public const string NoOpName = "(harness warm-up)";

        public override string Name => NoOpName;

        public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                 Span<float> output, AttentionShape shape, AttentionOptions options)
        {
        }
    }

    private sealed class Participant(AttentionImplementation implementation, CheckResult check, double firstCallSeconds)
    {
        public AttentionImplementation Implementation { get; } = implementation;
        public CheckResult Check { get; } = check;
        public double SecondsPerCall { get; set; } = firstCallSeconds;
        public long CallsPerRound { get; set; }

        // Bytes allocated on all threads per call: the least over the timed batches of the batch's bytes / calls,
        // rounded up (a batch of one call for the slow implementations).
        public long AllocatedBytesPerCall { get; set; } = long.MaxValue;
        public List<double> RoundTimes { get; } = [];
    }
}

