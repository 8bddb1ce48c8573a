using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>PutRecordBatch: its checks, faults, quotas and the records stored (and the checks deferred for benchmarks).</summary>
public sealed partial class FirehoseStandIn
{
    /// <summary>PutRecordBatch: the checks a real endpoint makes, the faults and quotas set, then the records stored.</summary>
    private async Task PutRecordBatchAsync(HttpContext context, byte[] body, long requestNumber, StandInFaults faults)
    {
        var request = context.Request;
        if (!string.Equals(request.ContentType, "application/x-amz-json-1.1", StringComparison.OrdinalIgnoreCase))
            Violation($"Content-Type was '{request.ContentType}'");

        if (DeferChecks && !faults.Any)
        {
            await AcceptDeferredAsync(context, body, requestNumber).ConfigureAwait(false);
            return;
        }

        var (authError, accessKey) = CheckSignature(request, body);
        if (authError != null)
        {
            Violation(authError.Value.Message);
            await ErrorAsync(context, authError.Value.Status, authError.Value.Code, authError.Value.Message).ConfigureAwait(false);
            return;
        }

        if (faults.OutageUntilUtc > DateTime.UtcNow)
        {
            await ErrorAsync(context, 503, "ServiceUnavailableException", "Service is unavailable (stand-in outage).").ConfigureAwait(false);
            return;
        }
        if (Chance(faults.DropConnectionRate))
        {
            context.Abort();
            return;
        }
        if (Chance(faults.ThrottleCallRate))
        {
            await ErrorAsync(context, 503, "ServiceUnavailableException", "Slow down.").ConfigureAwait(false);
            return;
        }
        if (Chance(faults.InternalErrorRate))
        {
            await ErrorAsync(context, 500, "InternalFailure", "We encountered an internal error.").ConfigureAwait(false);
            return;
        }

        string stream;
        List<byte[]> records;
        try
        {
            (stream, records) = ParseBody(body);
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
        {
            Violation("Malformed body: " + ex.Message);
            await ErrorAsync(context, 400, "SerializationException", ex.Message).ConfigureAwait(false);
            return;
        }

        string userAgent = request.Headers.UserAgent.ToString();
        string? sessionToken = request.Headers["X-Amz-Security-Token"].FirstOrDefault();
        long dataBytes = records.Sum(r => (long)r.Length);
        string? limitError = records.Count == 0 ? "Records must not be empty"
            : records.Count > MaxRecordsPerCall ? $"{records.Count} records exceed the limit of {MaxRecordsPerCall}"
            : records.Any(r => r.Length > MaxRecordBytes) ? $"A record of {records.Max(r => r.Length)} bytes exceeds the limit of {MaxRecordBytes}"
            : dataBytes > MaxBytesPerCall ? $"Records size {dataBytes} exceeds 4 MB limit"
            : null;
        if (limitError != null)
        {
            Violation(limitError);
            _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 400, "limit", accessKey!, userAgent));
            await ErrorAsync(context, 400, records.Count > MaxRecordsPerCall || records.Any(r => r.Length > MaxRecordBytes) ? "ValidationException" : "InvalidArgumentException", limitError).ConfigureAwait(false);
            return;
        }

        var queue = AutoCreateStreams ? _streams.GetOrAdd(stream, _ => new ConcurrentQueue<byte[]>()) : _streams.GetValueOrDefault(stream);
        if (queue is null)
        {
            _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 400, "not-found", accessKey!, userAgent));
            await ErrorAsync(context, 400, "ResourceNotFoundException", $"Firehose {stream} under account 123456789012 not found.").ConfigureAwait(false);
            return;
        }

        int failed = 0;
        List<bool> stored;
        using var responseBody = new MemoryStream();
        using (var writer = new Utf8JsonWriter(responseBody))
        {
            writer.WriteStartObject();
            var entries = new List<bool>(records.Count);
            stored = entries;
            int quotaRecords = faults.QuotaRecordsPerSecond;
            long quotaBytes = faults.QuotaBytesPerSecond;
            var window = quotaRecords > 0 || quotaBytes > 0 ? _quotaWindows.GetOrAdd(stream, _ => new QuotaWindow()) : null;
            bool failCall = Chance(faults.FailedCallRate);
            foreach (var record in records)
            {
                bool fail = failCall || Chance(faults.FailedRecordRate);
                if (!fail && window != null)
                {
                    lock (window)
                    {
                        long second = DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond;
                        if (window.Second != second)
                        {
                            window.Second = second;
                            window.Records = 0;
                            window.Bytes = 0;
                        }
                        if ((quotaRecords > 0 && window.Records + 1 > quotaRecords) || (quotaBytes > 0 && window.Bytes + record.Length > quotaBytes))
                        {
                            fail = true;
                            Interlocked.Increment(ref _quotaRefused);
                        }
                        else
                        {
                            window.Records++;
                            window.Bytes += record.Length;
                        }
                    }
                }
                if (fail)
                    failed++;
                else
                    queue.Enqueue(record);
                entries.Add(fail);
            }
            writer.WriteNumber("FailedPutCount", failed);
            writer.WriteBoolean("Encrypted", false);
            writer.WriteStartArray("RequestResponses");
            int entryIndex = 0;
            foreach (bool fail in entries)
            {
                entryIndex++;
                writer.WriteStartObject();
                if (fail)
                {
                    writer.WriteString("ErrorCode", "ServiceUnavailableException");
                    writer.WriteString("ErrorMessage", "Slow down.");
                }
                else
                {
                    writer.WriteString("RecordId", RecordId(requestNumber, entryIndex));
                }
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 200, failed > 0 ? $"partial:{failed}" : "ok", accessKey!, userAgent, sessionToken));
        if (Chance(faults.DropAfterProcessingRate))
        {
            StoredThenDropped(records, stored);
            context.Abort();
            return;
        }
        if (Chance(faults.SlowAfterProcessingRate))
        {
            try
            {
                await Task.Delay(faults.SlowAfterProcessingDelay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the client timed out after the records were stored: it will send them again
                StoredThenDropped(records, stored);
                return;
            }
        }

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        await context.Response.Body.WriteAsync(responseBody.ToArray()).ConfigureAwait(false);
    }

    /// <summary>
    /// When true and no fault is set, a PutRecordBatch call is answered as soon as its records are counted (all accepted) and
    /// what it would be checked for (signature, body, limits, the stream) and stored waits for
    /// <see cref="CompleteDeferredChecks"/>: a service that parses nothing while a benchmark measures the application
    /// beside it on the same cores. Violations found then are listed as usual.
    /// </summary>
    public bool DeferChecks { get; set; }

    private readonly ConcurrentQueue<(string Method, string Host, long? ContentLength, HeaderDictionary Headers, byte[] Body)> _deferred = new();

    private async Task AcceptDeferredAsync(HttpContext context, byte[] body, long requestNumber)
    {
        var request = context.Request;
        var headers = new HeaderDictionary();
        foreach (var header in request.Headers)
            headers[header.Key] = header.Value;
        _deferred.Enqueue((request.Method, request.Host.Value ?? string.Empty, request.ContentLength, headers, body));
        int count = body.AsSpan().Count("{\"Data\":"u8); // the client's serializer writes each record as {"Data":"…"}
        using var responseBody = new MemoryStream();
        using (var writer = new Utf8JsonWriter(responseBody))
        {
            writer.WriteStartObject();
            writer.WriteNumber("FailedPutCount", 0);
            writer.WriteBoolean("Encrypted", false);
            writer.WriteStartArray("RequestResponses");
            for (int i = 0; i < count; i++)
            {
                writer.WriteStartObject();
                writer.WriteString("RecordId", RecordId(requestNumber, i));
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.ContentLength = responseBody.Length;
        await context.Response.Body.WriteAsync(responseBody.GetBuffer().AsMemory(0, (int)responseBody.Length)).ConfigureAwait(false);
    }

    /// <summary>
    /// Checks and stores the calls <see cref="DeferChecks"/> answered unchecked, in arrival order: a call that fails a
    /// check is a violation and stores nothing. Returns how many calls it checked.
    /// </summary>
    public int CompleteDeferredChecks()
    {
        int checkedCalls = 0;
        while (_deferred.TryDequeue(out var call))
        {
            checkedCalls++;
            var (authError, accessKey) = CheckSignature(call.Method, call.Host, call.ContentLength, call.Headers, call.Body);
            if (authError != null)
            {
                Violation("deferred: " + authError.Value.Message);
                continue;
            }
            string stream;
            List<byte[]> records;
            try
            {
                (stream, records) = ParseBody(call.Body);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException or KeyNotFoundException)
            {
                Violation("deferred: malformed body: " + ex.Message);
                continue;
            }
            long dataBytes = records.Sum(r => (long)r.Length);
            if (records.Count == 0 || records.Count > MaxRecordsPerCall || records.Any(r => r.Length > MaxRecordBytes) || dataBytes > MaxBytesPerCall)
            {
                Violation($"deferred: a call of {records.Count} records and {dataBytes} bytes is over the limits");
                continue;
            }
            var queue = AutoCreateStreams ? _streams.GetOrAdd(stream, _ => new ConcurrentQueue<byte[]>()) : _streams.GetValueOrDefault(stream);
            if (queue is null)
            {
                Violation($"deferred: stream {stream} does not exist");
                continue;
            }
            foreach (var record in records)
                queue.Enqueue(record);
            _calls.Enqueue(new CallRecord(stream, records.Count, dataBytes, 200, "ok", accessKey!, ((IHeaderDictionary)call.Headers).UserAgent.ToString()));
        }
        return checkedCalls;
    }

    private static (string Stream, List<byte[]> Records) ParseBody(byte[] body)
    {
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        string stream = root.GetProperty("DeliveryStreamName").GetString() ?? throw new FormatException("DeliveryStreamName is null");
        var records = new List<byte[]>();
        foreach (var entry in root.GetProperty("Records").EnumerateArray())
            records.Add(entry.GetProperty("Data").GetBytesFromBase64());
        return (stream, records);
    }

    private void StoredThenDropped(List<byte[]> records, List<bool> failed)
    {
        for (int i = 0; i < records.Count; i++)
        {
            if (!failed[i])
            {
                _storedThenDropped.Enqueue(records[i]);
                Interlocked.Increment(ref _recordsStoredThenDropped);
            }
        }
    }
}
