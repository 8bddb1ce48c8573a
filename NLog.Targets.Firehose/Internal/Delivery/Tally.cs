using System;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>What Firehose made of some calls of one stream: events sent, accepted and refused by throttling, and the calls.</summary>
    internal struct Tally
    {
        public long Sent;
        public long Accepted;
        public long AcceptedBytes;
        public long Refused;
        public int Calls;
        public int RefusedCalls;

        /// <summary>Calls that had 90% or more of their events refused (a spent quota refuses everything).</summary>
        public int SpentCalls;

        /// <summary>Calls that had some of their events refused and some accepted (a fault that refuses whole calls makes none).</summary>
        public int PartCalls;

        /// <summary>The sum of the calls' sizes squared: how much chance can move a count of whole calls.</summary>
        public double SizeSquares;

        /// <summary>One call.</summary>
        public Tally(int sent, int accepted, long acceptedBytes, int refused)
        {
            Sent = sent;
            Accepted = accepted;
            AcceptedBytes = acceptedBytes;
            Refused = refused;
            Calls = 1;
            RefusedCalls = refused > 0 ? 1 : 0;
            SpentCalls = refused >= QuotaRules.SpentShare * sent ? 1 : 0;
            PartCalls = refused > 0 && refused < sent ? 1 : 0;
            SizeSquares = (double)sent * sent;
        }

        /// <summary>The share of events refused (0 when none was sent).</summary>
        public readonly double Share => Sent == 0 ? 0 : (double)Refused / Sent;

        public void Add(in Tally other)
        {
            Sent += other.Sent;
            Accepted += other.Accepted;
            AcceptedBytes += other.AcceptedBytes;
            Refused += other.Refused;
            Calls += other.Calls;
            RefusedCalls += other.RefusedCalls;
            SpentCalls += other.SpentCalls;
            PartCalls += other.PartCalls;
            SizeSquares += other.SizeSquares;
        }

        /// <summary>
        /// The standard deviation of the refused count were a share <paramref name="share"/> of these calls refused by
        /// chance: calls refused whole (<paramref name="wholeCalls"/>), or event by event.
        /// </summary>
        public readonly double Spread(double share, bool wholeCalls) =>
            Math.Sqrt(share * (1 - share) * (wholeCalls ? SizeSquares : Sent));
    }
}
