#if NET8_0_OR_GREATER
using System;
using System.Buffers.Text;
using System.IO;
using System.Text;

namespace NLog.Targets.Firehose.Internal.Aws.Transport
{
    /// <summary>What an answer's status line and headers say.</summary>
    internal struct AnswerHead
    {
        public int Status;

        /// <summary>HTTP/1.1 (else 1.0).</summary>
        public bool Http11;

        /// <summary>-1 when absent.</summary>
        public long ContentLength;

        public bool Chunked;

        /// <summary>The connection ends after this answer (<c>Connection: close</c>, or HTTP/1.0 without keep-alive).</summary>
        public bool Close;

        public string? ErrorType;

        public string? RequestId;

        public string? Date;
    }

    /// <summary>
    /// Reads HTTP/1.1 answers from bytes: where the head ends, what it says, and how long a chunked body is. Synchronous
    /// and allocation-light (strings only for the three headers an error needs), so the connection reads with one
    /// asynchronous method; every malformation is an <see cref="IOException"/> naming it.
    /// </summary>
    internal static class Http11Parser
    {
        /// <summary>The length of the head (status line, headers, blank line) at the start of <paramref name="data"/>; -1 when not all there yet.</summary>
        public static int HeadLength(ReadOnlySpan<byte> data)
        {
            int crlf = data.IndexOf("\r\n\r\n"u8);
            int lf = data.IndexOf("\n\n"u8);
            if (crlf < 0)
                return lf < 0 ? -1 : lf + 2;
            return lf >= 0 && lf < crlf ? lf + 2 : crlf + 4;
        }

        /// <summary>Reads a head <see cref="HeadLength"/> found.</summary>
        /// <exception cref="IOException">Not an HTTP/1.x answer, or a malformed or contradictory header.</exception>
        public static AnswerHead ParseHead(ReadOnlySpan<byte> head)
        {
            var result = new AnswerHead { ContentLength = -1 };
            var statusLine = NextLine(ref head);
            // HTTP/1.1 200 OK
            if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || statusLine[8] != (byte)' '
                || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out int used) || used != 3 || status < 100
                || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
            {
                throw new IOException($"the answer does not start with an HTTP/1.x status line: '{Printable(statusLine)}'");
            }
            result.Status = status;
            result.Http11 = statusLine[7] != (byte)'0';
            result.Close = !result.Http11;

            while (!head.IsEmpty)
            {
                var line = NextLine(ref head);
                if (line.IsEmpty)
                    break;
                int colon = line.IndexOf((byte)':');
                if (colon <= 0)
                    throw new IOException($"the answer has a malformed header line: '{Printable(line)}'");
                var name = Trim(line.Slice(0, colon));
                var value = Trim(line.Slice(colon + 1));
                if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
                {
                    if (value.IsEmpty || !char.IsAsciiDigit((char)value[0]) || !Utf8Parser.TryParse(value, out long length, out int consumed) || consumed != value.Length
                        || (result.ContentLength >= 0 && length != result.ContentLength))
                    {
                        throw new IOException($"the answer has an invalid Content-Length: '{Printable(value)}'");
                    }
                    result.ContentLength = length;
                }
                else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
                {
                    if (!HasToken(value, "chunked"u8))
                        throw new IOException($"the answer has an unsupported Transfer-Encoding: '{Printable(value)}'");
                    result.Chunked = true;
                }
                else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
                {
                    if (HasToken(value, "close"u8))
                        result.Close = true;
                    else if (!result.Http11 && HasToken(value, "keep-alive"u8))
                        result.Close = false;
                }
                else if (Ascii.EqualsIgnoreCase(name, "X-Amzn-ErrorType"u8))
                {
                    result.ErrorType ??= Encoding.Latin1.GetString(value);
                }
                else if (Ascii.EqualsIgnoreCase(name, "x-amzn-RequestId"u8))
                {
                    result.RequestId ??= Encoding.Latin1.GetString(value);
                }
                else if (Ascii.EqualsIgnoreCase(name, "Date"u8))
                {
                    result.Date ??= Encoding.Latin1.GetString(value);
                }
            }
            if (result.Chunked)
                result.ContentLength = -1; // RFC 9112 6.3: Transfer-Encoding overrides Content-Length
            return result;
        }

        /// <summary>
        /// The length of the chunked body (chunks, last chunk, trailers) at the start of <paramref name="data"/>, and of
        /// its data in <paramref name="dataLength"/>; -1 when not all there yet.
        /// </summary>
        /// <exception cref="IOException">A malformed chunk, or data longer than <paramref name="maxDataLength"/>.</exception>
        public static int ChunkedLength(ReadOnlySpan<byte> data, int maxDataLength, out int dataLength)
        {
            dataLength = 0;
            int at = 0;
            while (true)
            {
                int lineEnd = data.Slice(at).IndexOf((byte)'\n');
                if (lineEnd < 0)
                    return TooLongLine(data.Length - at);
                int size = ChunkSize(data.Slice(at, lineEnd));
                at += lineEnd + 1;
                if (size == 0)
                    break;
                if (size > maxDataLength - dataLength)
                    throw new IOException($"the answer's body is longer than {maxDataLength} bytes");
                int after = LineBreakAfterChunk(data, at + size);
                if (after < 0)
                    return -1;
                dataLength += size;
                at = after;
            }
            int trailerBytes = 0;
            while (true)
            {
                int lineEnd = data.Slice(at).IndexOf((byte)'\n');
                if (lineEnd < 0)
                    return TooLongLine(data.Length - at);
                bool empty = lineEnd == 0 || (lineEnd == 1 && data[at] == (byte)'\r');
                at += lineEnd + 1;
                if (empty)
                    return at;
                trailerBytes += lineEnd;
                if (trailerBytes > Http11Connection.MaxHeaderBytes)
                    throw new IOException($"the answer's trailers are longer than {Http11Connection.MaxHeaderBytes} bytes");
            }
        }

        /// <summary>Copies the data of a complete chunked body (<see cref="ChunkedLength"/> ≥ 0) into <paramref name="target"/>.</summary>
        public static void DecodeChunked(ReadOnlySpan<byte> data, Span<byte> target)
        {
            int at = 0;
            int written = 0;
            while (true)
            {
                int lineEnd = data.Slice(at).IndexOf((byte)'\n');
                int size = ChunkSize(data.Slice(at, lineEnd));
                at += lineEnd + 1;
                if (size == 0)
                    return;
                data.Slice(at, size).CopyTo(target.Slice(written));
                written += size;
                at = LineBreakAfterChunk(data, at + size);
            }
        }

        private static int TooLongLine(int pending) =>
            pending > Http11Connection.MaxHeaderBytes ? throw new IOException($"the answer has a line longer than {Http11Connection.MaxHeaderBytes} bytes") : -1;

        /// <summary>Where the line break that ends a chunk's data at <paramref name="at"/> ends; -1 when not there yet.</summary>
        private static int LineBreakAfterChunk(ReadOnlySpan<byte> data, int at)
        {
            if (data.Length <= at)
                return -1;
            if (data[at] == (byte)'\n')
                return at + 1;
            if (data[at] != (byte)'\r')
                throw new IOException("the answer has a chunk not followed by a line break");
            if (data.Length <= at + 1)
                return -1;
            if (data[at + 1] != (byte)'\n')
                throw new IOException("the answer has a chunk not followed by a line break");
            return at + 2;
        }

        private static int ChunkSize(ReadOnlySpan<byte> line)
        {
            if (!line.IsEmpty && line[line.Length - 1] == (byte)'\r')
                line = line.Slice(0, line.Length - 1);
            int extension = line.IndexOf((byte)';');
            var digits = Trim(extension < 0 ? line : line.Slice(0, extension));
            if (digits.IsEmpty || digits.Length > 7 || !Utf8Parser.TryParse(digits, out int size, out int used, 'x') || used != digits.Length)
                throw new IOException($"the answer has an invalid chunk size: '{Printable(line)}'");
            return size;
        }

        /// <summary>The next line of <paramref name="text"/> without its line break; <paramref name="text"/> moves past it.</summary>
        private static ReadOnlySpan<byte> NextLine(ref ReadOnlySpan<byte> text)
        {
            int lf = text.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line;
            if (lf < 0)
            {
                line = text;
                text = ReadOnlySpan<byte>.Empty;
            }
            else
            {
                line = text.Slice(0, lf);
                text = text.Slice(lf + 1);
            }
            return !line.IsEmpty && line[line.Length - 1] == (byte)'\r' ? line.Slice(0, line.Length - 1) : line;
        }

        private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text)
        {
            int start = 0;
            int end = text.Length;
            while (start < end && (text[start] == (byte)' ' || text[start] == (byte)'\t'))
                start++;
            while (end > start && (text[end - 1] == (byte)' ' || text[end - 1] == (byte)'\t'))
                end--;
            return text.Slice(start, end - start);
        }

        private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
        {
            while (true)
            {
                int comma = value.IndexOf((byte)',');
                var part = Trim(comma < 0 ? value : value.Slice(0, comma));
                if (Ascii.EqualsIgnoreCase(part, token))
                    return true;
                if (comma < 0)
                    return false;
                value = value.Slice(comma + 1);
            }
        }

        private static string Printable(ReadOnlySpan<byte> text)
        {
            var printable = new StringBuilder(Math.Min(text.Length, 80));
            for (int i = 0; i < text.Length && i < 80; i++)
                printable.Append(text[i] >= (byte)' ' && text[i] < 127 ? (char)text[i] : '?');
            return printable.ToString();
        }
    }
}
#endif
