using System;
using System.Globalization;

namespace NLog.Targets.Firehose.Internal.Diagnostics
{
    /// <summary>
    /// Counts per <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal): what the buffer holds, what it dropped, what a close
    /// lost, and how every message says them. Not thread-safe: its owner locks.
    /// </summary>
    internal sealed class LevelCounts
    {
        private const int Levels = 6;
        private static readonly string[] Names = { "Trace", "Debug", "Info", "Warn", "Error", "Fatal" };
        private readonly long[] _counts = new long[Levels];

        /// <summary>The count of <paramref name="level"/> (an ordinal outside 0–5 counts as the nearest level).</summary>
        public long this[int level] => _counts[Clamp(level)];

        public long Total
        {
            get
            {
                long total = 0;
                foreach (long n in _counts)
                    total += n;
                return total;
            }
        }

        /// <summary>One event of <paramref name="level"/>.</summary>
        public static LevelCounts One(int level)
        {
            var counts = new LevelCounts();
            counts.Add(level);
            return counts;
        }

        public void Add(int level, long count = 1) => _counts[Clamp(level)] += count;

        public void Add(LevelCounts other)
        {
            for (int i = 0; i < Levels; i++)
                _counts[i] += other._counts[i];
        }

        public LevelCounts Clone()
        {
            var copy = new LevelCounts();
            copy.Add(this);
            return copy;
        }

        public void Clear() => Array.Clear(_counts, 0, Levels);

        /// <summary><c>Trace 0, Debug 0, Info 3, Warn 0, Error 1, Fatal 0</c>.</summary>
        public override string ToString()
        {
            var text = new System.Text.StringBuilder(64);
            for (int i = 0; i < Levels; i++)
            {
                if (i > 0)
                    text.Append(", ");
                text.Append(Names[i]).Append(' ').Append(_counts[i].ToString(CultureInfo.InvariantCulture));
            }
            return text.ToString();
        }

        /// <summary>The level's name (<c>Trace</c> … <c>Fatal</c>).</summary>
        public static string Name(int level) => Names[Clamp(level)];

        /// <summary>The levels, for a loop over them.</summary>
        public static int Count => Levels;

        private static int Clamp(int level) => level < 0 ? 0 : level >= Levels ? Levels - 1 : level;
    }
}
