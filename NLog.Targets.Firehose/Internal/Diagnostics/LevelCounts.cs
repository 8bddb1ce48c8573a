using System.Globalization;

namespace NLog.Targets.Firehose.Internal.Diagnostics
{
    /// <summary>Counts per <see cref="LogLevel.Ordinal"/> (0 Trace … 5 Fatal): their total, and how every message says them.</summary>
    internal static class LevelCounts
    {
        private static readonly string[] Names = { "Trace", "Debug", "Info", "Warn", "Error", "Fatal" };

        public static long Total(long[] byLevel)
        {
            long total = 0;
            foreach (long n in byLevel)
                total += n;
            return total;
        }

        /// <summary><c>Trace 0, Debug 0, Info 3, Warn 0, Error 1, Fatal 0</c>.</summary>
        public static string Describe(long[] byLevel)
        {
            var text = new System.Text.StringBuilder(64);
            for (int i = 0; i < Names.Length; i++)
            {
                if (i > 0)
                    text.Append(", ");
                text.Append(Names[i]).Append(' ').Append((i < byLevel.Length ? byLevel[i] : 0).ToString(CultureInfo.InvariantCulture));
            }
            return text.ToString();
        }

        /// <summary>The level's name (<c>Trace</c> … <c>Fatal</c>).</summary>
        public static string Name(int level) => Names[level < 0 ? 0 : level > 5 ? 5 : level];
    }
}
