using System;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>Faults the stand-in injects; change them at any time, they apply to the next call.</summary>
public sealed class StandInFaults
{
    /// <summary>Share of calls answered with HTTP 503 <c>ServiceUnavailableException</c> (whole-call throttling).</summary>
    public double ThrottleCallRate { get; set; }

    /// <summary>Share of records answered with a per-record <c>ServiceUnavailableException</c> inside a 200.</summary>
    public double FailedRecordRate { get; set; }

    /// <summary>
    /// Share of calls answered 200 with every record refused with a per-record <c>ServiceUnavailableException</c> (a
    /// backend having a bad minute refuses calls whole, at any rate; a quota refuses what is over it).
    /// </summary>
    public double FailedCallRate { get; set; }

    /// <summary>Share of calls whose connection is dropped before the service takes any record.</summary>
    public double DropConnectionRate { get; set; }

    /// <summary>Share of calls whose connection is dropped after the service stored the records (the client cannot know: duplicates follow).</summary>
    public double DropAfterProcessingRate { get; set; }

    /// <summary>Share of calls answered with HTTP 500 <c>InternalFailure</c>.</summary>
    public double InternalErrorRate { get; set; }

    /// <summary>Share of calls that are stored and then answered only after <see cref="SlowAfterProcessingDelay"/>; a client that times out first cannot know they were stored.</summary>
    public double SlowAfterProcessingRate { get; set; }

    /// <summary>How slow the calls of <see cref="SlowAfterProcessingRate"/> are.</summary>
    public TimeSpan SlowAfterProcessingDelay { get; set; }

    /// <summary>Delay before every call is looked at (a call whose client gave up meanwhile is not processed).</summary>
    public TimeSpan ResponseDelay { get; set; }

    /// <summary>
    /// While set and not completed, every call waits for it before it is looked at (a stalled endpoint); a call whose
    /// client gives up meanwhile is not processed. Complete it to let the calls through.
    /// </summary>
    public System.Threading.Tasks.Task? Hold { get; set; }

    /// <summary>Until this time (UTC) every call is answered with HTTP 503 (an outage).</summary>
    public DateTime OutageUntilUtc { get; set; }

    /// <summary>
    /// A delivery stream's quota, as Firehose enforces it: records per second (0: none). Records over it in the current
    /// second are answered with a per-record <c>ServiceUnavailableException</c> "Slow down." inside a 200. Change it at
    /// any time (a quota raised or lowered while the application runs).
    /// </summary>
    public int QuotaRecordsPerSecond { get; set; }

    /// <summary>The same for record bytes per second (0: none).</summary>
    public long QuotaBytesPerSecond { get; set; }

    /// <summary>The stand-in's clock runs this far from the machine's: signatures outside ±5 min of it are rejected.</summary>
    public TimeSpan ClockOffset { get; set; }

    /// <summary>True when any fault is set.</summary>
    public bool Any =>
        ThrottleCallRate > 0 || FailedRecordRate > 0 || FailedCallRate > 0 || DropConnectionRate > 0 || DropAfterProcessingRate > 0 || InternalErrorRate > 0
        || SlowAfterProcessingRate > 0 || ResponseDelay > TimeSpan.Zero || Hold != null || OutageUntilUtc > DateTime.UtcNow
        || QuotaRecordsPerSecond > 0 || QuotaBytesPerSecond > 0 || ClockOffset != TimeSpan.Zero;

    /// <summary>Starts an outage of <paramref name="duration"/> from now.</summary>
    public void BeginOutage(TimeSpan duration) => OutageUntilUtc = DateTime.UtcNow + duration;

    /// <summary>Turns every fault off.</summary>
    public void Clear()
    {
        ThrottleCallRate = FailedRecordRate = FailedCallRate = DropConnectionRate = DropAfterProcessingRate = InternalErrorRate = SlowAfterProcessingRate = 0;
        QuotaRecordsPerSecond = 0;
        QuotaBytesPerSecond = 0;
        SlowAfterProcessingDelay = TimeSpan.Zero;
        ResponseDelay = TimeSpan.Zero;
        Hold = null;
        OutageUntilUtc = DateTime.MinValue;
        ClockOffset = TimeSpan.Zero;
    }
}
