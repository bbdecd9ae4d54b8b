namespace Wsd.Archive;

/// <summary>
/// A small bounded queue between two threads that blocks without spinning. BlockingCollection's
/// spin-then-wait burned the second core in sched_yield while the other thread had the real work;
/// on two cores that cost more than it saved.
/// </summary>
sealed class HandOff<T>(int capacity)
{
    readonly Queue<T> _items = new(capacity);
    readonly object _gate = new(); // a Monitor, for Wait and Pulse
    bool _completed;

    /// <summary>Adds an item, waiting while the queue is full; false once the queue is completed.</summary>
    public bool Add(T item)
    {
        lock (_gate)
        {
            while (_items.Count >= capacity && !_completed)
                Monitor.Wait(_gate);
            if (_completed)
                return false;
            _items.Enqueue(item);
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Takes the next item, waiting while empty; false when completed and drained.</summary>
    public bool Take(out T item)
    {
        lock (_gate)
        {
            while (_items.Count == 0 && !_completed)
                Monitor.Wait(_gate);
            if (_items.Count == 0)
            {
                item = default!;
                return false;
            }
            item = _items.Dequeue();
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>No more items: takers drain what is left, adders give up.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
