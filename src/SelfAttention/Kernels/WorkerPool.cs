using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace SelfAttention.Kernels;

/// <summary>
/// Runs the work items of one attention call on the calling thread plus up to <c>degree − 1</c> helper threads,
/// without allocating per call (<see cref="Parallel.For(int, int, Action{int})"/> allocates closures and tasks).
/// <para>
/// Items are claimed from a shared counter, so a causal call balances itself; each item writes its own output rows
/// and computes them the same way whichever thread runs it, so results are bit-identical for every degree.
/// The helper threads are created once, on the first parallel call, and then wait on a semaphore.
/// </para>
/// <para>
/// One parallel call runs at a time. A call that finds the pool busy, whether from another thread or from inside
/// an item of the running call (on the caller's thread or a helper's), runs all of its items on its own thread
/// instead of waiting, so it never touches the shared job and never deadlocks.
/// </para>
/// <para>
/// Exceptions: the items point into buffers the caller has pinned only for the duration of <see cref="Run"/>, so
/// the caller waits for every helper to finish with the job before it returns or rethrows, whatever happened.
/// Once any item throws, no further item is claimed (items already running finish); the first exception thrown,
/// on any thread, is rethrown on the caller's thread with its original stack trace. A helper never dies from an
/// item's exception.
/// </para>
/// </summary>
internal static unsafe class WorkerPool
{
    private static readonly SemaphoreSlim s_start = new(0);
    private static readonly CountdownEvent s_done = new(0);
    private static int s_threadCount;

    // 1 while a parallel call owns the job below; taken with a compare-exchange, which, unlike a Monitor, does not
    // let the owning thread in a second time.
    private static int s_busy;

    // The job in flight; written by its owner before the helpers are released, read by them after.
    private static AttentionProblem s_problem;
    private static delegate*<in AttentionProblem, int, void> s_body;
    private static int s_itemCount;
    private static int s_nextItem;
    private static ExceptionDispatchInfo? s_failure;

    // The job in flight when it is not an attention problem (RunJob): an opaque pointer to the caller's job struct.
    private static void* s_job;
    private static delegate*<void*, int, void> s_jobBody;

    /// <summary>Runs <c>body(problem, item)</c> for every item in <c>[0, itemCount)</c> on at most <paramref name="degree"/> threads.</summary>
    /// <remarks>
    /// If an item throws, the first exception is rethrown here after every helper has stopped; some items may then
    /// not have run.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in AttentionProblem problem, int itemCount, int degree, delegate*<in AttentionProblem, int, void> body)
    {
        int helpers = Math.Min(Math.Min(degree, itemCount), Environment.ProcessorCount) - 1;
        if (helpers <= 0 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            RunInline(problem, itemCount, body);
            return;
        }

        try
        {
            // Thread creation can fail (out of memory); nothing has started then, so the exception simply propagates.
            EnsureThreads(helpers);
            RunShared(problem, itemCount, helpers, body);
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>
    /// Runs <c>body(job, item)</c> for every item in <c>[0, itemCount)</c> on at most <paramref name="degree"/> threads,
    /// with the same rules as <see cref="Run"/>: for work that is not an attention problem (the packed GEMM). The job
    /// is the caller's struct, pinned (a local) for the duration of the call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunJob(void* job, int itemCount, int degree, delegate*<void*, int, void> body)
    {
        int helpers = Math.Min(Math.Min(degree, itemCount), Environment.ProcessorCount) - 1;
        if (helpers <= 0 || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            for (int item = 0; item < itemCount; item++)
            {
                body(job, item);
            }

            return;
        }

        try
        {
            EnsureThreads(helpers);
            s_job = job;
            s_jobBody = body;
            RunShared(default, itemCount, helpers, null);
        }
        finally
        {
            s_job = null;
            s_jobBody = null;
            Volatile.Write(ref s_busy, 0);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunInline(in AttentionProblem problem, int itemCount, delegate*<in AttentionProblem, int, void> body)
    {
        for (int item = 0; item < itemCount; item++)
        {
            body(problem, item);
        }
    }

    // Called by the owner of s_busy only.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunShared(in AttentionProblem problem, int itemCount, int helpers, delegate*<in AttentionProblem, int, void> body)
    {
        s_problem = problem;
        s_body = body;
        s_itemCount = itemCount;
        s_nextItem = 0;
        s_failure = null;
        s_done.Reset(helpers);
        s_start.Release(helpers);
        try
        {
            Work();
        }
        finally
        {
            // Until every helper has signalled, one may still be writing through the caller's pinned pointers.
            WaitForHelpers();
        }

        ExceptionDispatchInfo? failure = s_failure;
        s_failure = null;
        s_problem = default;
        s_body = null;
        failure?.Throw();
    }

    /// <summary>
    /// Claims and runs items until none is left or one has thrown. Never throws: the first exception of the job,
    /// from any thread, is kept in <see cref="s_failure"/>, and the item counter is pushed past the end so that no
    /// thread claims another item.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Work()
    {
        try
        {
            int item;
            while ((item = Interlocked.Increment(ref s_nextItem) - 1) < s_itemCount)
            {
                if (s_jobBody != null)
                {
                    s_jobBody(s_job, item);
                }
                else
                {
                    s_body(s_problem, item);
                }
            }
        }
        catch (Exception exception)
        {
            Interlocked.Exchange(ref s_nextItem, s_itemCount);
            Interlocked.CompareExchange(ref s_failure, ExceptionDispatchInfo.Capture(exception), null);
        }
    }

    /// <summary>
    /// Waits for every helper of the job, even if this thread is interrupted meanwhile (the interrupt is re-raised
    /// afterwards, at the thread's next blocking wait), so the caller's pinned buffers outlive every helper's use.
    /// </summary>
    private static void WaitForHelpers()
    {
        bool interrupted = false;
        while (true)
        {
            try
            {
                s_done.Wait();
                break;
            }
            catch (ThreadInterruptedException)
            {
                interrupted = true;
            }
        }

        if (interrupted)
        {
            Thread.CurrentThread.Interrupt();
        }
    }

    // Called by the owner of s_busy only, so no two threads create helpers at once.
    private static void EnsureThreads(int count)
    {
        while (s_threadCount < count)
        {
            var thread = new Thread(WorkerLoop) { IsBackground = true, Name = "SelfAttention worker" };
            thread.Start();
            s_threadCount++;
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
