namespace SelfAttention.Kernels;

/// <summary>
/// Runs the work items of one attention call on the calling thread plus up to <c>degree − 1</c> helper threads,
/// without allocating per call (<see cref="Parallel.For(int, int, Action{int})"/> allocates closures and tasks).
/// <para>
/// Items are claimed from a shared counter, so a causal call balances itself; each item writes its own output rows
/// and computes them the same way whichever thread runs it, so results are bit-identical for every degree.
/// The helper threads are created once, on the first parallel call, and then wait on a semaphore. One parallel call
/// runs at a time: a call that finds the pool busy runs on its own thread instead of waiting.
/// </para>
/// </summary>
internal static unsafe class WorkerPool
{
    private static readonly object s_gate = new();
    private static readonly SemaphoreSlim s_start = new(0);
    private static readonly CountdownEvent s_done = new(0);
    private static int s_threadCount;

    // The job in flight; written under s_gate before the helpers are released.
    private static AttentionProblem s_problem;
    private static delegate*<in AttentionProblem, int, void> s_body;
    private static int s_itemCount;
    private static int s_nextItem;

    /// <summary>Runs <c>body(problem, item)</c> for every item in <c>[0, itemCount)</c> on at most <paramref name="degree"/> threads.</summary>
    public static void Run(in AttentionProblem problem, int itemCount, int degree, delegate*<in AttentionProblem, int, void> body)
    {
        int helpers = Math.Min(Math.Min(degree, itemCount), Environment.ProcessorCount) - 1;
        if (helpers <= 0 || !Monitor.TryEnter(s_gate))
        {
            for (int item = 0; item < itemCount; item++)
            {
                body(problem, item);
            }

            return;
        }

        try
        {
            EnsureThreads(helpers);
            s_problem = problem;
            s_body = body;
            s_itemCount = itemCount;
            s_nextItem = 0;
            s_done.Reset(helpers);
            s_start.Release(helpers);
            Work();
            s_done.Wait();
        }
        finally
        {
            Monitor.Exit(s_gate);
        }
    }

    private static void Work()
    {
        int item;
        while ((item = Interlocked.Increment(ref s_nextItem) - 1) < s_itemCount)
        {
            s_body(s_problem, item);
        }
    }

    private static void EnsureThreads(int count)
    {
        for (; s_threadCount < count; s_threadCount++)
        {
            var thread = new Thread(WorkerLoop) { IsBackground = true, Name = "SelfAttention worker" };
            thread.Start();
        }
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            s_start.Wait();
            try
            {
                Work();
            }
            finally
            {
                s_done.Signal();
            }
        }
    }
}
