namespace PruneSharp.Sparse;

/// <summary>
/// Runs numbered pieces of work on the calling thread and up to threads − 1 pool threads, which claim pieces from a
/// shared counter. The caller waits only for pieces that were claimed, never for a helper that has not started: on a
/// busy machine a helper that is scheduled late finds nothing left, and the product costs at most what one thread
/// takes, where a fork-join (Parallel.For) would wait for every helper to be scheduled.
/// </summary>
static class WorkSharing
{
    public static void Run(int pieces, int threads, Action<int> body)
    {
        if (threads <= 1 || pieces <= 1)
        {
            for (int i = 0; i < pieces; i++) body(i);
            return;
        }
        var work = new Work(pieces, body);
        for (int t = 1; t < Math.Min(threads, pieces); t++) ThreadPool.UnsafeQueueUserWorkItem(static w => w.Drain(), work, preferLocal: false);
        work.Drain();
        work.WaitForClaimed();
    }

    sealed class Work(int pieces, Action<int> body)
    {
        int _next = -1, _finished;
        Exception? _error;

        public void Drain()
        {
            int piece;
            while ((piece = Interlocked.Increment(ref _next)) < pieces)
            {
                try { body(piece); }
                catch (Exception e) { Interlocked.CompareExchange(ref _error, e, null); }
                Interlocked.Increment(ref _finished);
            }
        }

        public void WaitForClaimed()
        {
            var spin = new SpinWait();
            while (Volatile.Read(ref _finished) < pieces) spin.SpinOnce();
            if (_error != null) throw new AggregateException(_error);
        }
    }
}
