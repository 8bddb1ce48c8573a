using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>The awsJson1.1 wire format of PutRecordBatch: request body, response and error parsing.</summary>
    internal static class FirehoseProtocol
    {
        public const string Target = "Firehose_20150804.PutRecordBatch";
        public const string DescribeTarget = "Firehose_20150804.DescribeDeliveryStream";
        public const string ContentType = "application/x-amz-json-1.1";
        public const string SigningService = "firehose";

        private static readonly byte[] Head = System.Text.Encoding.ASCII.GetBytes("{\"DeliveryStreamName\":\"");
        private static readonly byte[] RecordsOpen = System.Text.Encoding.ASCII.GetBytes("\",\"Records\":[");
        private static readonly byte[] DataOpen = System.Text.Encoding.ASCII.GetBytes("{\"Data\":\"");
        private static readonly byte[] DataClose = System.Text.Encoding.ASCII.GetBytes("\"}");
        private static readonly byte[] Tail = System.Text.Encoding.ASCII.GetBytes("]}");
        private static readonly byte[] ErrorCodeName = System.Text.Encoding.ASCII.GetBytes("\"ErrorCode\"");
        private static readonly byte[] FailedPutCountName = System.Text.Encoding.ASCII.GetBytes("\"FailedPutCount\"");
        private static readonly byte[] RecordIdName = System.Text.Encoding.ASCII.GetBytes("\"RecordId\"");

        /// <summary>The size in bytes of the request body for <paramref name="records"/>.</summary>
        [MethodImpl(HotPath.Optimized)]
        public static int RequestLength(string deliveryStreamName, IReadOnlyList<IWireRecord> records)
        {
            int count = records.Count;
            long size = Head.Length + deliveryStreamName.Length + RecordsOpen.Length + Tail.Length + Math.Max(0, count - 1);
            for (int i = 0; i < count; i++)
                size += DataOpen.Length + Base64Length(records[i].Data.Length) + DataClose.Length;
            return checked((int)size);
        }

        /// <summary>Writes the request body into the start of <paramref name="destination"/> (at least <see cref="RequestLength"/> bytes); returns its length.</summary>
        [MethodImpl(HotPath.Optimized)]
        public static int WriteRequest(string deliveryStreamName, IReadOnlyList<IWireRecord> records, byte[] destination)
        {
            if (!FirehoseLimits.IsValidStreamName(deliveryStreamName))
                throw new ArgumentException("Not a valid delivery stream name", nameof(deliveryStreamName));
            int count = records.Count;
            var span = new Span<byte>(destination);
            int at = Put(span, 0, Head);
            for (int i = 0; i < deliveryStreamName.Length; i++)
                destination[at++] = (byte)deliveryStreamName[i];
            at = Put(span, at, RecordsOpen);
            for (int i = 0; i < count; i++)
            {
                if (i > 0)
                    destination[at++] = (byte)',';
                at = Put(span, at, DataOpen);
                System.Buffers.Text.Base64.EncodeToUtf8(records[i].Data.Span, span.Slice(at), out _, out int written);
                at += written;
                at = Put(span, at, DataClose);
            }
            return Put(span, at, Tail);
        }

        private static long Base64Length(int bytes) => ((bytes + 2L) / 3) * 4;

        private static int Put(Span<byte> span, int at, byte[] bytes)
        {
            bytes.CopyTo(span.Slice(at));
            return at + bytes.Length;
        }

        /// <summary>
        /// Reads a 200 response. <c>RequestResponses</c> has one entry per request record in request order; an
        /// entry with an <c>ErrorCode</c> failed. A response whose entries do not line up with the request is
        /// treated as "every record failed" so nothing is assumed delivered.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        public static PutRecordBatchResult ParseResponse(byte[] body, int recordCount)
        {
            if (IsPlainSuccess(body, recordCount))
                return PutRecordBatchResult.AllAccepted(recordCount);

            // One pass of a streaming reader (no document): a 500-entry answer is ~40 KB, read for every call.
            string?[]? codes = null;
            string?[]? messages = null;
            int failed = 0;
            int? declaredFailed = null;
            int entries = 0;
            var reader = new Utf8JsonReader(body);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new JsonException("The PutRecordBatch response is not a JSON object.");
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("FailedPutCount"))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.Number)
                        declaredFailed = reader.TryGetInt32(out int declared) ? declared : -1; // not a count: nothing is assumed delivered
                    else
                        reader.Skip();
                }
                else if (reader.ValueTextEquals("RequestResponses"))
                {
                    reader.Read();
                    if (reader.TokenType != JsonTokenType.StartArray)
                    {
                        reader.Skip();
                        continue;
                    }
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        if (reader.TokenType != JsonTokenType.StartObject)
                        {
                            reader.Skip();
                            entries++;
                            continue;
                        }
                        string? code = null;
                        string? message = null;
                        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                        {
                            bool isCode = reader.ValueTextEquals("ErrorCode");
                            bool isMessage = !isCode && reader.ValueTextEquals("ErrorMessage");
                            reader.Read();
                            if (reader.TokenType == JsonTokenType.String && (isCode || isMessage))
                            {
                                if (isCode)
                                    code = reader.GetString();
                                else
                                    message = reader.GetString();
                            }
                            else
                            {
                                reader.Skip();
                            }
                        }
                        if (code != null && entries < recordCount)
                        {
                            codes ??= new string?[recordCount];
                            messages ??= new string?[recordCount];
                            codes[entries] = ErrorClassifier.SanitizeErrorCode(code) ?? "UnknownError";
                            messages[entries] = message;
                            failed++;
                        }
                        entries++;
                    }
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
            codes ??= new string?[recordCount];
            messages ??= new string?[recordCount];

            // All accepted only when the answer says so for each record: a 200 with fewer entries ("{}", a wrong
            // serviceUrl's answer) tells nothing about the records, and counting them delivered would lose them silently.
            if ((declaredFailed ?? 0) == 0 && failed == 0 && entries == recordCount)
                return new PutRecordBatchResult(0, codes, messages);

            if (entries != recordCount || (declaredFailed.HasValue && declaredFailed.Value != failed))
            {
                for (int i = 0; i < recordCount; i++)
                {
                    codes[i] ??= "InternalFailure";
                    messages[i] ??= "The response's RequestResponses did not match the request's records.";
                }
                return new PutRecordBatchResult(recordCount, codes, messages);
            }

            return new PutRecordBatchResult(failed, codes, messages);
        }

        /// <summary>
        /// The common answer, recognized without a JSON reader: one object whose <c>FailedPutCount</c> is 0, with exactly
        /// one <c>RecordId</c> per record sent and no <c>ErrorCode</c> anywhere. (A JSON reader walked every entry of
        /// every answer: in the first seconds of a process, before the runtime optimized it, that was ~0.2 ms a call.)
        /// Anything else — a failure, a missing or extra entry, an answer that does not look like that — is read in full.
        /// </summary>
        [MethodImpl(HotPath.Optimized)]
        private static bool IsPlainSuccess(byte[] body, int recordCount)
        {
            var span = TrimEnd(TrimStart(new ReadOnlySpan<byte>(body)));
            if (span.Length < 2 || span[0] != (byte)'{' || span[span.Length - 1] != (byte)'}' || span.IndexOf((ReadOnlySpan<byte>)ErrorCodeName) >= 0)
                return false;
            int at = span.IndexOf((ReadOnlySpan<byte>)FailedPutCountName);
            if (at < 0 || span.Slice(at + 1).IndexOf((ReadOnlySpan<byte>)FailedPutCountName) >= 0)
                return false;
            var rest = TrimStart(span.Slice(at + FailedPutCountName.Length));
            if (rest.Length < 2 || rest[0] != (byte)':')
                return false;
            rest = TrimStart(rest.Slice(1));
            if (rest.Length < 2 || rest[0] != (byte)'0' || (rest[1] >= (byte)'0' && rest[1] <= (byte)'9') || rest[1] == (byte)'.')
                return false;
            int ids = 0;
            for (int i = span.IndexOf((ReadOnlySpan<byte>)RecordIdName); i >= 0; i = NextIndex(span, i + RecordIdName.Length, RecordIdName))
            {
                if (++ids > recordCount)
                    return false;
            }
            return ids == recordCount;
        }

        private static ReadOnlySpan<byte> TrimStart(ReadOnlySpan<byte> span)
        {
            int i = 0;
            while (i < span.Length && IsWhitespace(span[i]))
                i++;
            return span.Slice(i);
        }

        private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> span)
        {
            int end = span.Length;
            while (end > 0 && IsWhitespace(span[end - 1]))
                end--;
            return span.Slice(0, end);
        }

        private static bool IsWhitespace(byte b) => b == (byte)' ' || b == (byte)'\t' || b == (byte)'\r' || b == (byte)'\n';

        private static int NextIndex(ReadOnlySpan<byte> span, int from, byte[] value)
        {
            int next = span.Slice(from).IndexOf((ReadOnlySpan<byte>)value);
            return next < 0 ? -1 : from + next;
        }

        /// <summary>The body of a DescribeDeliveryStream call.</summary>
        public static byte[] DescribeRequest(string deliveryStreamName)
        {
            using var stream = new System.IO.MemoryStream();
            using (var writer = new Utf8JsonWriter(stream))
            {
                writer.WriteStartObject();
                writer.WriteString("DeliveryStreamName", deliveryStreamName);
                writer.WriteEndObject();
            }
            return stream.ToArray();
        }

        /// <summary>Reads the status and type of a DescribeDeliveryStream answer.</summary>
        public static DeliveryStreamDescription ParseDescription(byte[] body)
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                var description = doc.RootElement.GetProperty("DeliveryStreamDescription");
                return new DeliveryStreamDescription(
                    description.TryGetProperty("DeliveryStreamStatus", out var status) ? status.GetString() : null,
                    description.TryGetProperty("DeliveryStreamType", out var type) ? type.GetString() : null);
            }
            catch (Exception ex) when (ex is JsonException || ex is KeyNotFoundException || ex is InvalidOperationException)
            {
                throw new System.IO.IOException("DescribeDeliveryStream answered 200 with a body this target cannot read", ex);
            }
        }

        /// <summary>Reads the error code and message of an error response (<c>__type</c>/<c>code</c>, <c>message</c>/<c>Message</c>).</summary>
        public static (string? Code, string? Message) ParseError(byte[] body, string? errorTypeHeader)
        {
            string? code = ErrorClassifier.SanitizeErrorCode(errorTypeHeader);
            string? message = null;
            if (body.Length > 0)
            {
                try
                {
                    using var doc = JsonDocument.Parse(body);
                    var root = doc.RootElement;
                    if (root.ValueKind == JsonValueKind.Object)
                    {
                        if (code is null)
                            code = ErrorClassifier.SanitizeErrorCode(GetString(root, "__type") ?? GetString(root, "code") ?? GetString(root, "Code"));
                        message = GetString(root, "message") ?? GetString(root, "Message");
                    }
                }
                catch (JsonException)
                {
                    message = null; // Not JSON (a proxy's HTML page, say): keep the status code only.
                }
            }
            return (code, message);
        }

        private static string? GetString(JsonElement obj, string name)
        {
            return obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
    }
}
