using System;
using System.Buffers;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;
using NLog.Layouts;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// Turning queued events into PutRecordBatch request bodies (render, UTF-8 record, base64 JSON body in calls of 500)
    /// against rendering the same events with the JsonLayout alone.
    /// </summary>
    [MemoryDiagnoser]
    [ShortRunJob]
    public class EncodingBenchmarks
    {
        private const int Count = 10_000;
        private readonly List<LogEventInfo> _events = new List<LogEventInfo>(Count);
        private Layout _layout = null!;
        private RecordEncoder _encoder = null!;
        private readonly RecordSlab _slab = new RecordSlab();

        [GlobalSetup]
        public void Setup()
        {
            _layout = Events.JsonLayout();
            _encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Truncate);
            for (int i = 0; i < Count; i++)
            {
                var e = Events.Create(i);
                e.TimeStamp = new System.DateTime(2026, 11, 25, 12, 0, 0, System.DateTimeKind.Utc).AddMilliseconds(i);
                _events.Add(e);
            }
        }

        [Benchmark(Baseline = true, OperationsPerInvoke = Count, Description = "JsonLayout.Render alone")]
        public int RenderOnly()
        {
            int length = 0;
            foreach (var e in _events)
                length += _layout.Render(e).Length;
            return length;
        }

        /// <summary>Rendering as the target renders (into a reused StringBuilder), without the passes that follow.</summary>
        [Benchmark(OperationsPerInvoke = Count, Description = "render into a reused StringBuilder")]
        public int RenderIntoBuilder()
        {
            int length = 0;
            var text = new System.Text.StringBuilder(512);
            foreach (var e in _events)
            {
                text.Clear();
                _layout.Render(e, text);
                length += text.Length;
            }
            return length;
        }

        /// <summary>As the target does it: render into a reused StringBuilder, UTF-8 into shared arrays, pooled bodies.</summary>
        [Benchmark(OperationsPerInvoke = Count, Description = "render + encode + request bodies")]
        public int RenderEncodeSerialize() => RenderEncode(hash: false);

        /// <summary>The same, and the SHA-256 of every body that the call's signature needs: all the passes over an event's
        /// bytes that Firehose's format asks for before anything is sent.</summary>
        [Benchmark(OperationsPerInvoke = Count, Description = "render + encode + request bodies + SHA-256")]
        public int RenderEncodeSerializeHash() => RenderEncode(hash: true);

        private int RenderEncode(bool hash)
        {
            int length = 0;
            var call = new List<BufferedRecord>(FirehoseLimits.MaxRecordsPerCall);
            long sequence = 0;
            foreach (var e in _events)
            {
                var text = _slab.Text();
                _layout.Render(e, text);
                _encoder.TryEncode(text, e, _slab, out var data, out _, out _);
                call.Add(new BufferedRecord("app-logs", data, 2, ++sequence, _slab.TakeCommitted()));
                if (call.Count == FirehoseLimits.MaxRecordsPerCall)
                {
                    length += Body(call, hash);
                    Release(call);
                }
            }
            if (call.Count > 0)
            {
                length += Body(call, hash);
                Release(call);
            }
            return length;
        }

        /// <summary>As an accepted call does: the records' shares of the pooled arrays go back.</summary>
        private static void Release(List<BufferedRecord> call)
        {
            foreach (var record in call)
                record.Release();
            call.Clear();
        }

        private static int Body(List<BufferedRecord> call, bool hash)
        {
            var body = ArrayPool<byte>.Shared.Rent(FirehoseProtocol.RequestLength("app-logs", call));
            int length = FirehoseProtocol.WriteRequest("app-logs", call, body);
            if (hash)
            {
                Span<byte> digest = stackalloc byte[32];
                System.Security.Cryptography.SHA256.HashData(body.AsSpan(0, length), digest);
                length += digest[0] & 1;
            }
            ArrayPool<byte>.Shared.Return(body);
            return length;
        }
    }
}
