using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>
    /// The real HTTP client, with a record of the calls whose outcome the target could not know: those that ended in a
    /// network fault or a timeout rather than an answer. Firehose may have stored their records, so these (and only these)
    /// may arrive twice. Seen from the client, so a stall on a busy machine that makes a call time out is counted too.
    /// </summary>
    internal sealed class AmbiguousCallRecorder : IFirehoseClient
    {
        private readonly IFirehoseClient _inner;
        private readonly ConcurrentQueue<byte[]> _ambiguous = new ConcurrentQueue<byte[]>();

        private AmbiguousCallRecorder(IFirehoseClient inner) => _inner = inner;

        /// <summary>Gives <paramref name="target"/> the real HTTP client behind a recorder, and returns the recorder.</summary>
        public static Func<AmbiguousCallRecorder> Attach(FirehoseTarget target)
        {
            AmbiguousCallRecorder? recorder = null;
            target.Seams.ClientFactory = endpoint => recorder = new AmbiguousCallRecorder(
                new FirehoseHttpClient(endpoint, null, TimeSpan.FromSeconds(target.RequestTimeoutSeconds), target.Name ?? "fh"));
            return () => recorder ?? throw new InvalidOperationException("the target was never initialized");
        }

        /// <summary>The data of every record sent in a call whose outcome stayed unknown, once per such call.</summary>
        public IReadOnlyCollection<byte[]> AmbiguousRecords => _ambiguous.ToArray();

        public async Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, IReadOnlyList<IWireRecord> records, CancellationToken cancellationToken)
        {
            var sent = new byte[records.Count][];
            for (int i = 0; i < records.Count; i++)
                sent[i] = records[i].Data.ToArray(); // before the call: a record's data is released once it is done with
            try
            {
                return await _inner.PutRecordBatchAsync(deliveryStreamName, records, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is FirehoseServiceException))
            {
                foreach (var data in sent)
                    _ambiguous.Enqueue(data);
                throw;
            }
        }

        public Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken) =>
            _inner.DescribeDeliveryStreamAsync(deliveryStreamName, cancellationToken);

        public void Dispose() => _inner.Dispose();
    }
}
