using System.Diagnostics;

namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// One stream's outcomes in the last second, in slots of a tenth of a second (the current one and the ten before it:
    /// a whole second at least); and in each of the last five whole seconds (of the Stopwatch's clock).
    /// </summary>
    internal sealed class SecondWindow
    {
        private const int Slots = 11; // the current tenth of a second and the ten before it
        private const int Seconds = 5;
        private readonly long[] _slot = new long[Slots];
        private readonly Tally[] _slots = new Tally[Slots];
        private readonly long[] _whole = new long[Seconds];
        private readonly Tally[] _wholes = new Tally[Seconds];

        public void Add(long now, in Tally outcome)
        {
            long slot = now / (Stopwatch.Frequency / 10);
            int i = (int)(slot % Slots);
            if (_slot[i] != slot)
            {
                _slot[i] = slot;
                _slots[i] = default;
            }
            _slots[i].Add(outcome);

            long whole = now / Stopwatch.Frequency;
            int w = (int)(whole % Seconds);
            if (_whole[w] != whole)
            {
                _whole[w] = whole;
                _wholes[w] = default;
            }
            _wholes[w].Add(outcome);
        }

        /// <summary>The last second's outcomes (the current tenth of a second and the ten before it).</summary>
        public Tally Sum(long now)
        {
            long slot = now / (Stopwatch.Frequency / 10);
            var sum = default(Tally);
            for (int i = 0; i < Slots; i++)
            {
                if (_slot[i] > slot - Slots && _slot[i] <= slot)
                    sum.Add(_slots[i]);
            }
            return sum;
        }

        /// <summary>
        /// The seconds <see cref="Sum"/> covers: from the start of its oldest tenth of a second that holds anything to
        /// <paramref name="now"/> (a tenth of a second at least).
        /// </summary>
        public double Span(long now)
        {
            long tenth = Stopwatch.Frequency / 10;
            long slot = now / tenth, oldest = slot;
            for (int i = 0; i < Slots; i++)
            {
                if (_slot[i] > slot - Slots && _slot[i] < oldest && _slots[i].Calls > 0)
                    oldest = _slot[i];
            }
            return System.Math.Max(0.1, (now - oldest * tenth) / (double)Stopwatch.Frequency);
        }

        /// <summary>Whole second <paramref name="second"/> (a Stopwatch second), when it is one of the last five and anything was sent in it.</summary>
        public Tally? Whole(long second)
        {
            int w = (int)(second % Seconds);
            return _whole[w] == second && second > 0 ? _wholes[w] : null;
        }

        /// <summary>
        /// The most accepted (events, and their bytes) in this whole second so far or one of the
        /// <paramref name="before"/> before it.
        /// </summary>
        public (long Accepted, long AcceptedBytes) MostAccepted(long now, int before = 1)
        {
            long second = now / Stopwatch.Frequency;
            var most = Whole(second) ?? default;
            for (long s = second - 1; s >= second - before; s--)
            {
                if (Whole(s) is { } whole && whole.Accepted > most.Accepted)
                    most = whole;
            }
            return (most.Accepted, most.AcceptedBytes);
        }
    }
}
