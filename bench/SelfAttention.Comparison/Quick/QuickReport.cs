using System.Globalization;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// Prints the quick table: per shape and implementation the median time per call, its spread, GFLOP/s (and GB/s of
/// K+V for decode) with the share of the measured controls, the speedups over the oracle and the peers of
/// <paramref name="ratioColumns"/>, the bytes one call allocates and the spot check. Rows follow the order of
/// <paramref name="implementations"/>.
/// </summary>
internal sealed class QuickReport(QuickOptions options, MachineFigures? machine, IReadOnlyList<Measurement> measurements,
                                  IReadOnlyList<AttentionImplementation> implementations, IReadOnlyList<RatioColumn> ratioColumns)
{
    private static readonly CultureInfo s_culture = CultureInfo.InvariantCulture;

    /// <summary>Writes the table and its legend.</summary>
    public void Write(TextWriter writer)
    {
        string header = string.Format(s_culture, "{0,-20} {1,11} {2,5} {3,8} {4,6} {5,7} {6,7}",
                            "implementation", "µs/call", "±%", "GFLOP/s", "%peak", "GB/s", "%read")
                        + string.Concat(ratioColumns.Select(c => " " + c.Header.PadLeft(RatioWidth(c))))
                        + string.Format(s_culture, " {0,11} {1,9}", "B/call", "max|Δ|");
        foreach (var shape in options.Shapes)
        {
            var rows = measurements.Where(m => m.Shape == shape).OrderBy(m => IndexOf(m.Implementation)).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            writer.WriteLine($"{shape.Name}  {shape.Dimensions}  ({Flops(shape.Flops)} dense{(shape.IsDecode ? $", {shape.KeyValueBytes / 1e6:0.#} MB of K+V" : "")} per call)");
            writer.WriteLine(header);
            double[] references = ratioColumns.Select(c => TimeOf(rows, c.Implementation)).ToArray();
            double readControl = TimeOf(rows, KeyValueReadControl.ControlName);
            foreach (var m in rows)
            {
                writer.WriteLine(m.Implementation == KeyValueReadControl.ControlName ? ControlRow(m) : Row(m, references, readControl));
            }

            writer.WriteLine();
        }

        WriteLegend(writer);
    }

    // The read control: its time, spread and GB/s; the columns that compare attention implementations stay empty.
    private static string ControlRow(Measurement m) =>
        string.Format(s_culture, "{0,-20} {1,11} {2,5:0.0} {3,8} {4,6} {5,7:0.0} {6,7}",
            m.Implementation, Microseconds(m.SecondsPerCall), 100 * m.RelativeSpread, "", "", m.KeyValueGigabytesPerSecond, "100");

    // The ratio columns are as wide as their headers, at least 7 characters.
    private static int RatioWidth(RatioColumn column) => Math.Max(7, column.Header.Length);

    private string Row(Measurement m, double[] references, double readControl)
    {
        if (!m.Timed)
        {
            return string.Format(s_culture, "{0,-20} not timed: failed its check ({1})", m.Implementation, m.Check);
        }

        int threads = options.Threads == -1 ? Environment.ProcessorCount : Math.Max(1, options.Threads);
        double peak = machine is null ? double.NaN : machine.FmaPeak * Math.Min(threads, Environment.ProcessorCount);
        bool decode = m.Shape.IsDecode;
        var line = new System.Text.StringBuilder();
        line.Append(string.Format(s_culture, "{0,-20} {1,11} {2,5:0.0} {3,8:0.00} {4,6} {5,7} {6,7}",
            m.Implementation, Microseconds(m.SecondsPerCall), 100 * m.RelativeSpread, m.GflopsPerSecond,
            Percent(m.GflopsPerSecond, peak),
            decode ? m.KeyValueGigabytesPerSecond.ToString("0.0", s_culture) : "",
            decode ? Ratio(100 * readControl, m.SecondsPerCall, "0") : ""));
        for (int c = 0; c < ratioColumns.Count; c++)
        {
            line.Append(' ').Append(Ratio(references[c], m.SecondsPerCall).PadLeft(RatioWidth(ratioColumns[c])));
        }

        line.Append(string.Format(s_culture, " {0,11:N0} {1,9:0.0e+0}", m.AllocatedBytes, m.Check.MaxAbsDiff));
        return line.ToString();
    }

    private void WriteLegend(TextWriter writer)
    {
        string causal = options.Causal ? " The calls are causal, but GFLOP/s still counts the dense flops (with nq = nk a causal call does about half of them)." : "";
        writer.WriteLine($"µs/call: median over the alternating rounds of the per-call time; ±%: median absolute deviation over the rounds.");
        writer.WriteLine($"GFLOP/s: 2·B·H·nq·nk·(d+dv) dense flops per call / time.{causal}");
        if (machine is not null)
        {
            writer.WriteLine($"%peak: of the FMA peak measured above ({machine.FmaPeak:0.0} GFLOP/s per core, × threads); "
                             + "GB/s (decode only): K+V bytes read per call / time.");
            if (options.Shapes.Any(s => s.IsDecode))
            {
                writer.WriteLine($"%read (decode only): of the {KeyValueReadControl.ControlName} row, a plain one-thread vector sum over the same K and V buffers timed in "
                                 + "the same alternating rounds (median against median; the 256 MiB read above is a best of several, outside the rounds).");
            }
        }

        if (ratioColumns.Count > 0)
        {
            writer.WriteLine($"{string.Join(", ", ratioColumns.Select(c => c.Header))}: time of {string.Join(", ", ratioColumns.Select(c => c.Implementation))} "
                             + "at the same shape / time of this row (above 1: this row is faster; empty: that one was not timed there).");
        }

        writer.WriteLine("B/call: bytes allocated per steady-state call on all threads (GC.GetTotalAllocatedBytes around the timed batches, least over rounds). max|Δ|: largest difference from the oracle over the last "
                         + "8 query rows, checked before timing.");
        var skipped = options.Shapes.Where(s => !s.IncludesSlowImplementations).Select(s => s.Name).ToArray();
        var slow = implementations.Where(i => i.IsSlow).Select(i => i.Name).ToArray();
        if (skipped.Length > 0 && slow.Length > 0)
        {
            string who = slow.Length == 1 ? $"{slow[0]} is" : $"{string.Join(", ", slow[..^1])} and {slow[^1]} are";
            writer.WriteLine($"{who} not timed at {string.Join(", ", skipped)} (seconds per call there).");
        }

        var threadedPeers = implementations.Where(i => i.UsesThreads && i is not LibraryKernelImplementation).Select(i => i.Name).ToArray();
        string peers = threadedPeers.Length == 0 ? "the peers always use one thread"
                       : $"the peers that take a thread count ({string.Join(", ", threadedPeers)}) get the same; the other peers use one thread";
        writer.WriteLine($"The library kernels run with MaxDegreeOfParallelism = {options.Threads}; {peers}.");
    }

    private int IndexOf(string name)
    {
        for (int n = 0; n < implementations.Count; n++)
        {
            if (implementations[n].Name == name)
            {
                return n;
            }
        }

        return implementations.Count;
    }

    private static double TimeOf(List<Measurement> rows, string name) =>
        rows.Find(m => m.Implementation == name && m.Timed)?.SecondsPerCall ?? double.NaN;

    private static string Flops(double flops) =>
        flops < 1e6 ? $"{flops:0} flop" : flops < 1e9 ? $"{flops / 1e6:0.#} MFLOP" : $"{flops / 1e9:0.##} GFLOP";

    private static string Microseconds(double seconds)
    {
        double us = seconds * 1e6;
        return us.ToString(us < 10 ? "0.000" : us < 1000 ? "0.0" : "#,0", s_culture);
    }

    private static string Ratio(double reference, double seconds) =>
        Ratio(reference, seconds, reference / seconds < 10 ? "0.00" : "0.0");

    private static string Ratio(double reference, double seconds, string format) =>
        double.IsNaN(reference) ? "" : (reference / seconds).ToString(format, s_culture);

    private static string Percent(double value, double of) =>
        double.IsNaN(of) ? "" : (100 * value / of).ToString("0", s_culture);
}
