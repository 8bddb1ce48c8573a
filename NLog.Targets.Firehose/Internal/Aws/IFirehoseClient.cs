using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// The one Firehose operation the target needs. The real one signs and sends over HTTP
    /// (<see cref="FirehoseHttpClient"/>); tests substitute it.
    /// </summary>
    internal interface IFirehoseClient : IDisposable
    {
        /// <summary>
        /// Sends <paramref name="records"/> in one PutRecordBatch call.
        /// Returns the per-record outcome of a 200 response; throws <see cref="FirehoseServiceException"/> for an
        /// error response, and the transport's exception (<see cref="System.Net.Http.HttpRequestException"/>,
        /// <see cref="System.IO.IOException"/>, <see cref="TimeoutException"/>) for network faults.
        /// </summary>
        Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, IReadOnlyList<IWireRecord> records, CancellationToken cancellationToken);

        /// <summary>DescribeDeliveryStream: the stream's status and type (the optional start-up check).</summary>
        Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken);
    }
}
