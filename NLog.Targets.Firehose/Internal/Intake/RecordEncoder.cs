using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Intake
{
    /// <summary>
    /// Turns rendered text into a record's bytes: UTF-8 (a lone surrogate becomes U+FFFD), trailing line breaks
    /// trimmed and exactly one <c>\n</c> appended when asked, and a record over the size limit truncated or dropped.
    /// A record that is a JSON object is truncated into a smaller valid JSON object; other text is cut.
    /// </summary>
    internal sealed class RecordEncoder
    {
        private const string TruncatedSuffix = "...[truncated]";
        private static readonly UTF8Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

        private readonly bool _appendNewLine;
        private readonly OversizeRecordAction _oversizeAction;
        private readonly int _maxRecordBytes;

        public RecordEncoder(bool appendNewLine, OversizeRecordAction oversizeAction, int maxRecordBytes = FirehoseLimits.MaxRecordBytes)
        {
            _appendNewLine = appendNewLine;
            _oversizeAction = oversizeAction;
            _maxRecordBytes = maxRecordBytes;
        }

        /// <summary>
        /// Encodes <paramref name="text"/>, rendered from <paramref name="logEvent"/>, into an array of its own. Returns
        /// null when the event is dropped.
        /// </summary>
        public byte[]? Encode(string text, LogEventInfo logEvent, out EncodeOutcome outcome) => Encode(text, logEvent, out outcome, out _);

        /// <summary>
        /// Encodes <paramref name="text"/>, rendered from <paramref name="logEvent"/>, into an array of its own, replacing
        /// lone surrogates (raw, or escaped in JSON) with U+FFFD; <paramref name="repaired"/> says how many. Returns null
        /// when the event is dropped.
        /// </summary>
        public byte[]? Encode(string text, LogEventInfo logEvent, out EncodeOutcome outcome, out int repaired)
        {
            var chars = text.ToCharArray();
            if (!TryEncode(chars, chars.Length, logEvent, null, out var data, out outcome, out repaired))
                return null;
            return System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
                ? segment.Array
                : data.ToArray();
        }

        /// <summary>
        /// Encodes the text in <paramref name="text"/> (rendered from <paramref name="logEvent"/>) as
        /// <see cref="Encode(string, LogEventInfo, out EncodeOutcome, out int)"/> does, without a string or array of its
        /// own: small records go into <paramref name="slab"/>. Returns false when the event is dropped.
        /// </summary>
        public bool TryEncode(System.Text.StringBuilder text, LogEventInfo logEvent, RecordSlab slab, out ReadOnlyMemory<byte> data, out EncodeOutcome outcome, out int repaired)
        {
            int length = text.Length;
            var chars = slab.Chars(length);
            text.CopyTo(0, chars, 0, length);
            return TryEncode(chars, length, logEvent, slab, out data, out outcome, out repaired);
        }

        [MethodImpl(HotPath.Optimized)]
        private bool TryEncode(char[] chars, int length, LogEventInfo logEvent, RecordSlab? slab, out ReadOnlyMemory<byte> data, out EncodeOutcome outcome, out int repaired)
        {
            repaired = Utf16Repair.RepairInPlace(chars, length, LooksLikeJsonObject(chars, length));
            if (_appendNewLine)
            {
                while (length > 0 && (chars[length - 1] == '\n' || chars[length - 1] == '\r'))
                    length--;
            }

            int newLine = _appendNewLine ? 1 : 0;
            outcome = EncodeOutcome.Encoded;
            int mostBytes = length * 3 + newLine;
            if (slab != null && length <= RecordSlab.MaxChars && mostBytes <= _maxRecordBytes)
            {
                var array = slab.Reserve(mostBytes, out int offset);
                int written = Utf8.GetBytes(chars, 0, length, array, offset);
                if (_appendNewLine)
                    array[offset + written] = (byte)'\n';
                slab.Commit(written + newLine);
                data = new ReadOnlyMemory<byte>(array, offset, written + newLine);
                return true;
            }

            int byteCount = Utf8.GetByteCount(chars, 0, length) + newLine;
            if (byteCount <= _maxRecordBytes)
            {
                var bytes = new byte[byteCount];
                Utf8.GetBytes(chars, 0, length, bytes, 0);
                if (_appendNewLine)
                    bytes[byteCount - 1] = (byte)'\n';
                data = bytes;
                return true;
            }

            data = default;
            if (_oversizeAction == OversizeRecordAction.Drop)
            {
                outcome = EncodeOutcome.Dropped;
                return false;
            }

            outcome = EncodeOutcome.Truncated;
            data = LooksLikeJsonObject(chars, length) ? TruncateJson(logEvent, byteCount) : TruncateText(new string(chars, 0, length), length);
            return true;
        }

        /// <summary>Whether the rendered record is a JSON object (JsonLayout or any other JSON-writing layout).</summary>
        [MethodImpl(HotPath.Optimized)]
        private static bool LooksLikeJsonObject(char[] text, int length)
        {
            int first = 0;
            while (first < length && char.IsWhiteSpace(text[first]))
                first++;
            int last = length - 1;
            while (last > first && char.IsWhiteSpace(text[last]))
                last--;
            return first < last && text[first] == '{' && text[last] == '}';
        }

        /// <summary>Cuts plain text at a UTF-8 character boundary and marks the cut.</summary>
        private byte[] TruncateText(string text, int length)
        {
            int newLine = _appendNewLine ? 1 : 0;
            int budget = _maxRecordBytes - TruncatedSuffix.Length - newLine;
            // A char is at most 3 UTF-8 bytes (a surrogate pair is 4 bytes for 2 chars), so this many chars fit for sure;
            // then grow while it still fits.
            int chars = Math.Min(length, budget / 3);
            int used = ByteCount(text, 0, chars);
            while (chars < length)
            {
                int step = char.IsHighSurrogate(text[chars]) && chars + 1 < length ? 2 : 1;
                int extra = ByteCount(text, chars, step);
                if (used + extra > budget)
                    break;
                used += extra;
                chars += step;
            }

            var bytes = new byte[used + TruncatedSuffix.Length + newLine];
            Utf8.GetBytes(text, 0, chars, bytes, 0);
            Utf8.GetBytes(TruncatedSuffix, 0, TruncatedSuffix.Length, bytes, used);
            if (_appendNewLine)
                bytes[bytes.Length - 1] = (byte)'\n';
            return bytes;
        }

        /// <summary>
        /// Builds a smaller JSON record from the event itself: time, level, logger, a shortened message and exception,
        /// and <c>"truncated":true</c> with the original size. Always valid JSON.
        /// </summary>
        private byte[] TruncateJson(LogEventInfo logEvent, int originalBytes)
        {
            string message = SafeMessage(logEvent);
            string? exception = SafeException(logEvent);
            int newLine = _appendNewLine ? 1 : 0;
            // Escaping can grow a char to 6 bytes (\u0001), so start from what surely fits and halve if needed.
            int budgetChars = (_maxRecordBytes - 1024) / 2;
            while (true)
            {
                byte[] json = WriteTruncatedJson(logEvent, Clip(message, budgetChars), exception is null ? null : Clip(exception, budgetChars), originalBytes);
                if (json.Length + newLine <= _maxRecordBytes || budgetChars < 16)
                {
                    if (!_appendNewLine)
                        return json;
                    var withNewLine = new byte[json.Length + 1];
                    Buffer.BlockCopy(json, 0, withNewLine, 0, json.Length);
                    withNewLine[json.Length] = (byte)'\n';
                    return withNewLine;
                }
                budgetChars /= 2;
            }
        }

        private static byte[] WriteTruncatedJson(LogEventInfo logEvent, string message, string? exception, int originalBytes)
        {
            using var stream = new MemoryStream();
            // Options made here, not in a static field: only an oversized record needs the JSON encoder (its set-up is
            // ~15 methods run for the first time, which would hold back the runtime's tiering at every process's first call).
            var options = new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
            using (var writer = new Utf8JsonWriter(stream, options))
            {
                writer.WriteStartObject();
                writer.WriteString("time", logEvent.TimeStamp.ToUniversalTime().ToString("o", System.Globalization.CultureInfo.InvariantCulture));
                writer.WriteString("level", (logEvent.Level ?? LogLevel.Off).Name.ToUpperInvariant());
                writer.WriteString("logger", logEvent.LoggerName ?? string.Empty);
                writer.WriteString("message", message);
                if (exception != null)
                    writer.WriteString("exception", exception);
                writer.WriteBoolean("truncated", true);
                writer.WriteNumber("originalBytes", originalBytes);
                writer.WriteEndObject();
            }
            return stream.ToArray();
        }

        private static int ByteCount(string text, int start, int count)
        {
            if (start == 0 && count == text.Length)
                return Utf8.GetByteCount(text);
#if NET8_0_OR_GREATER
            return Utf8.GetByteCount(text.AsSpan(start, count));
#else
            return Utf8.GetByteCount(text.Substring(start, count));
#endif
        }

        private static string Clip(string value, int maxChars)
        {
            if (value.Length <= maxChars)
                return value;
            int cut = maxChars;
            if (cut > 0 && char.IsHighSurrogate(value[cut - 1]))
                cut--;
            return value.Substring(0, cut) + TruncatedSuffix;
        }

        private static string SafeMessage(LogEventInfo logEvent)
        {
            try
            {
                return logEvent.FormattedMessage ?? string.Empty;
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                return logEvent.Message ?? string.Empty;
            }
        }

        private static string? SafeException(LogEventInfo logEvent)
        {
            if (logEvent.Exception is null)
                return null;
            try
            {
                return logEvent.Exception.ToString();
            }
            catch (Exception ex) when (!(ex is OutOfMemoryException))
            {
                return logEvent.Exception.GetType().FullName + " (ToString() threw " + ex.GetType().Name + ")";
            }
        }
    }
}
