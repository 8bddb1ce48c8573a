using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// Per delivery stream: whether its calls are paused. A stream that failed with an error retrying does not cure
    /// (missing stream, access denied, refused credentials: <em>broken</em>), or that made no progress for the retry time
    /// limit, pauses: no calls for the first pause, then twice as long each time up to a cap. A call that is accepted
    /// closes the breaker again. Thread-safe.
    /// </summary>
    internal sealed class CircuitBreaker
    {
        private readonly object _lock = new object();
        private readonly DeliveryStreams _streams;
        private readonly TimeSpan _retryTimeLimit;
        private readonly TimeSpan _pauseBase;
        private readonly TimeSpan _pauseMax;

        public CircuitBreaker(TimeSpan retryTimeLimit, TimeSpan pauseBase, TimeSpan pauseMax, DeliveryStreams? streams = null)
        {
            _streams = streams ?? new DeliveryStreams();
            _retryTimeLimit = retryTimeLimit;
            _pauseBase = pauseBase;
            _pauseMax = pauseMax;
        }

        /// <summary>
        /// Whether <paramref name="stream"/> last failed with an error retrying does not cure (and has not accepted a call
        /// since); <paramref name="code"/> is that error.
        /// </summary>
        public bool IsBroken(string stream, out string? code)
        {
            lock (_lock)
            {
                code = _streams.TryGet(stream, out var state) && state.Health is { Broken: true } health ? health.LastCode : null;
                return code != null;
            }
        }

        /// <summary>The streams paused at <paramref name="now"/>, those of them that are broken, and the earliest end of a pause.</summary>
        [MethodImpl(HotPath.Optimized)]
        public ICollection<string> Paused(DateTime now, out DateTime? nextResume, out ICollection<string> broken)
        {
            HashSet<string>? paused = null;
            HashSet<string>? brokenStreams = null;
            nextResume = null;
            lock (_lock)
            {
                foreach (var stream in _streams.All)
                {
                    if (stream.Health is { } health && health.PausedUntil > now)
                    {
                        (paused ??= new HashSet<string>(StringComparer.Ordinal)).Add(stream.Name);
                        if (health.Broken)
                            (brokenStreams ??= new HashSet<string>(StringComparer.Ordinal)).Add(stream.Name);
                        if (nextResume is null || health.PausedUntil < nextResume)
                            nextResume = health.PausedUntil;
                    }
                }
            }
            broken = brokenStreams ?? (ICollection<string>)Array.Empty<string>();
            return paused ?? (ICollection<string>)Array.Empty<string>();
        }

        /// <summary>A call of <paramref name="stream"/> was accepted (some or all): closes its breaker; true when it had been open.</summary>
        public bool Accepted(string stream)
        {
            lock (_lock)
            {
                if (!_streams.TryGet(stream, out var state) || !(state.Health is { } health))
                    return false;
                bool wasPaused = health.CoolDown > TimeSpan.Zero;
                health.FailingSince = null;
                health.CoolDown = TimeSpan.Zero;
                health.PausedUntil = DateTime.MinValue;
                health.Broken = false;
                return wasPaused;
            }
        }

        /// <summary>
        /// A call of <paramref name="stream"/> made no progress at <paramref name="now"/>: opens the breaker when it has
        /// failed for the retry time limit. Returns the pause begun, or zero.
        /// </summary>
        public TimeSpan NoProgress(string stream, string code, DateTime now)
        {
            lock (_lock)
            {
                var health = HealthOf(stream);
                health.FailingSince ??= now;
                return now - health.FailingSince.Value >= _retryTimeLimit ? OpenLocked(health, code, broken: false, now) : TimeSpan.Zero;
            }
        }

        /// <summary>A call of <paramref name="stream"/> failed with an error retrying does not cure: opens the breaker; returns the pause.</summary>
        public TimeSpan Broken(string stream, string code, DateTime now)
        {
            lock (_lock)
                return OpenLocked(HealthOf(stream), code, broken: true, now);
        }

        private TimeSpan OpenLocked(StreamHealth health, string code, bool broken, DateTime now)
        {
            health.CoolDown = health.CoolDown == TimeSpan.Zero ? _pauseBase : TimeSpan.FromTicks(Math.Min(health.CoolDown.Ticks * 2, _pauseMax.Ticks));
            health.PausedUntil = now + health.CoolDown;
            health.Broken = broken;
            health.LastCode = code;
            health.FailingSince = null;
            return health.CoolDown;
        }

        private StreamHealth HealthOf(string stream)
        {
            var state = _streams.Of(stream);
            return state.Health ??= new StreamHealth();
        }
    }
}
