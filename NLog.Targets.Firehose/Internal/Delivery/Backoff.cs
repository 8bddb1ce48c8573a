using System;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Exponential backoff with full jitter: the n-th wait is uniform in [0, min(max, base × 2^n)].
    /// Full jitter spreads the retries of many clients so a recovering endpoint does not get a thundering herd.
    /// </summary>
    internal sealed class Backoff
    {
        private readonly TimeSpan _baseDelay;
        private readonly TimeSpan _maxDelay;
        private readonly Func<double> _random;

        public Backoff(TimeSpan baseDelay, TimeSpan maxDelay, Func<double> random)
        {
            _baseDelay = baseDelay;
            _maxDelay = maxDelay < baseDelay ? baseDelay : maxDelay;
            _random = random;
        }

        /// <summary>The upper bound of the wait before retry number <paramref name="attempt"/> (0-based).</summary>
        public TimeSpan Ceiling(int attempt)
        {
            double ceilingMs = _baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30));
            return TimeSpan.FromMilliseconds(Math.Min(ceilingMs, _maxDelay.TotalMilliseconds));
        }

        /// <summary>The wait before retry number <paramref name="attempt"/> (0-based).</summary>
        public TimeSpan Next(int attempt)
        {
            return TimeSpan.FromMilliseconds(Ceiling(attempt).TotalMilliseconds * _random());
        }
    }
}
