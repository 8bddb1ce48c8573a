using System;
using System.Collections.Concurrent;
using System.Globalization;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// The correction of the local clock that signing uses, per endpoint, learned from errors as the AWS SDK learns it:
    /// a code that always means a skewed clock (<c>RequestTimeTooSkewed</c>, <c>RequestExpired</c>,
    /// <c>RequestInTheFuture</c>) is corrected whenever the server's time is known; a code that may mean one or a wrong
    /// key (<c>InvalidSignatureException</c>, <c>SignatureDoesNotMatch</c>, <c>AuthFailure</c>) only when the server's
    /// time is more than <see cref="PossibleSkewThreshold"/> from the corrected clock (a wrong secret key must not move
    /// the clock). The server's time comes from the answer's <c>Date</c>, else from the message
    /// (<c>… (20240101T001000Z - 5 min.)</c>). Kept per endpoint and process-wide, like the SDK's, so a reloaded
    /// configuration or a second target to the same endpoint starts corrected.
    /// </summary>
    internal static class ClockSkew
    {
        /// <summary>AWS accepts signatures within 5 minutes of its clock; a smaller difference cannot explain a refusal.</summary>
        internal static readonly TimeSpan PossibleSkewThreshold = TimeSpan.FromMinutes(5);

        private static readonly ConcurrentDictionary<string, long> OffsetTicks = new ConcurrentDictionary<string, long>(StringComparer.OrdinalIgnoreCase);

        /// <summary>The correction to add to the local clock when signing for <paramref name="endpoint"/>.</summary>
        public static TimeSpan OffsetFor(Uri endpoint) =>
            OffsetTicks.TryGetValue(Key(endpoint), out long ticks) ? TimeSpan.FromTicks(ticks) : TimeSpan.Zero;

        /// <summary>Whether <paramref name="code"/> may be a clock problem (the only codes <see cref="TryCorrect"/> acts on).</summary>
        public static bool MayBeSkew(string? code) => IsDefinite(code) || IsPossible(code);

        /// <summary>
        /// Corrects the clock for <paramref name="endpoint"/> when the error and the server's time say it is skewed.
        /// </summary>
        /// <returns>The new correction; null when the clock is left as it was.</returns>
        public static TimeSpan? TryCorrect(Uri endpoint, string? code, DateTimeOffset? serverDate, string? message, DateTime utcNow)
        {
            if (!MayBeSkew(code))
                return null;
            DateTime? server = serverDate?.UtcDateTime ?? TimeInMessage(message);
            if (server is null)
                return null;
            var correctedNow = utcNow + OffsetFor(endpoint);
            var off = server.Value - correctedNow;
            var threshold = IsDefinite(code) ? TimeSpan.FromSeconds(1) : PossibleSkewThreshold;
            if (off.Duration() <= threshold)
                return null;
            var offset = server.Value - utcNow;
            OffsetTicks[Key(endpoint)] = offset.Ticks;
            return offset;
        }

        /// <summary>The server's time in an expired-signature message: the first <c>yyyyMMddTHHmmssZ</c> after '('.</summary>
        internal static DateTime? TimeInMessage(string? message)
        {
            if (message is null)
                return null;
            int open = message.IndexOf('(');
            if (open < 0 || message.Length < open + 17)
                return null;
            return DateTime.TryParseExact(message.Substring(open + 1, 16), "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time) ? time : (DateTime?)null;
        }

        private static string Key(Uri endpoint) => endpoint.GetLeftPart(UriPartial.Authority);

        private static bool IsDefinite(string? code) => code != null && ErrorClassifier.IsClockSkew(code);

        private static bool IsPossible(string? code) => code is "InvalidSignatureException" or "SignatureDoesNotMatch" or "AuthFailure";
    }
}
