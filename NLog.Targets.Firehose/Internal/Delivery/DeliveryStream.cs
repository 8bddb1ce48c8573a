namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// One delivery stream's state in the pipeline, in one place: its health (<see cref="CircuitBreaker"/>: failing,
    /// paused, broken), its send-rate bucket (<see cref="RateCap"/>: the fixed caps and the learned rate), and its learned
    /// rate (<see cref="QuotaLearner"/>). Each part is read and changed only under the lock of the class that owns that
    /// concern (lock order as the README's Architecture section gives it); the stream is their home, not their lock. Its
    /// records wait in the buffer (<c>Buffering/</c>, below this folder), whose bounds span every stream.
    /// </summary>
    internal sealed class DeliveryStream
    {
        public DeliveryStream(string name)
        {
            Name = name;
        }

        public string Name { get; }

        /// <summary>Its breaker; null until a call of it first failed (<see cref="CircuitBreaker"/>'s lock).</summary>
        public StreamHealth? Health { get; set; }

        /// <summary>Its token bucket; null until a call of it was first looked at with a rate on (<see cref="RateCap"/>'s lock).</summary>
        public RateCap.Bucket? Bucket { get; set; }

        /// <summary>Its learned rate and the outcomes it is learned from; null until a call of it was answered (<see cref="QuotaLearner"/>'s lock).</summary>
        public StreamRate? Rate { get; set; }
    }
}
