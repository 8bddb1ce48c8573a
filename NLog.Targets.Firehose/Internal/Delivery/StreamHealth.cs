using System;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>A stream's breaker (<see cref="CircuitBreaker"/>, under its lock): failing since when, paused until when, and why.</summary>
    internal sealed class StreamHealth
    {
        public DateTime? FailingSince;
        public TimeSpan CoolDown;
        public DateTime PausedUntil;

        /// <summary>Paused for an error retrying does not cure (the stream is <em>broken</em>), not for a lack of progress.</summary>
        public bool Broken;

        public string? LastCode;
    }
}
