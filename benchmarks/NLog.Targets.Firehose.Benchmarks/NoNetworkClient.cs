using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// <c>-- process firehose … transport=none</c>: a client that does the target's own share of a call — the JSON body
    /// with its base64 and the SHA-256 the signature needs — and answers that every record was accepted, without the HTTP
    /// stack or the network. Against a normal run it shows what <c>HttpClient</c> (its compiling and its work per call)
    /// costs the application. Nothing arrives at the stand-in.
    /// </summary>
    internal sealed class NoNetworkClient : IFirehoseClient
    {
        public Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, IReadOnlyList<IWireRecord> records, CancellationToken cancellationToken)
        {
            int length = FirehoseProtocol.RequestLength(deliveryStreamName, records);
            byte[] body = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                int written = FirehoseProtocol.WriteRequest(deliveryStreamName, records, body);
                Span<byte> hash = stackalloc byte[32];
                System.Security.Cryptography.SHA256.HashData(body.AsSpan(0, written), hash);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(body);
            }
            return Task.FromResult(PutRecordBatchResult.AllAccepted(records.Count));
        }

        public Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken) =>
            Task.FromResult(new DeliveryStreamDescription("ACTIVE", "DirectPut"));

        public void Dispose()
        {
        }
    }
}
