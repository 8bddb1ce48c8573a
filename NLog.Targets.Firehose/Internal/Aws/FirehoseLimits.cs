using System.Runtime.CompilerServices;
namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>Fixed PutRecordBatch limits (they cannot be raised).</summary>
    internal static class FirehoseLimits
    {
        /// <summary>Records in one PutRecordBatch call.</summary>
        public const int MaxRecordsPerCall = 500;

        /// <summary>One record's data before base64: 1,000 KiB.</summary>
        public const int MaxRecordBytes = 1_024_000;

        /// <summary>
        /// Data bytes (before base64) in one call. The service limit is 4 MiB (4,194,304); AWS's text does not
        /// say whether it counts encoded bytes, so we stay below it with a round 4,000,000 decoded bytes.
        /// </summary>
        public const int MaxBytesPerCall = 4_000_000;

        /// <summary>Longest delivery stream name.</summary>
        public const int MaxStreamNameLength = 64;

        /// <summary>Whether <paramref name="name"/> is a valid delivery stream name: 1–64 of [a-zA-Z0-9_.-].</summary>
        [MethodImpl(HotPath.Optimized)]
        public static bool IsValidStreamName(string? name)
        {
            if (name is null || name.Length == 0 || name.Length > MaxStreamNameLength)
                return false;
            foreach (char c in name)
            {
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
                if (!ok)
                    return false;
            }
            return true;
        }
    }
}
