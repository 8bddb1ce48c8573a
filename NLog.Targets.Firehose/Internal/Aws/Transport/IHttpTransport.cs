using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Aws.Transport
{
    /// <summary>Sends one signed POST to the endpoint and returns its answer; a failure to get one throws.</summary>
    internal interface IHttpTransport : IDisposable
    {
        /// <summary>
        /// POSTs the first <paramref name="length"/> bytes of <paramref name="body"/> with <paramref name="headers"/>
        /// (besides <c>Host</c> and <c>Content-Length</c>, which the transport writes).
        /// </summary>
        Task<HttpAnswer> PostAsync(IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body, int length, CancellationToken cancellationToken);
    }

    /// <summary>An HTTP answer: status, body, and the headers that matter to an error.</summary>
    internal sealed class HttpAnswer
    {
        private readonly string? _date;

        /// <param name="status">The HTTP status.</param>
        /// <param name="body">The body (decoded from chunks).</param>
        /// <param name="errorType"><c>X-Amzn-ErrorType</c>.</param>
        /// <param name="requestId"><c>x-amzn-RequestId</c>.</param>
        /// <param name="date"><c>Date</c> as sent (RFC 1123), parsed only when asked for.</param>
        public HttpAnswer(int status, byte[] body, string? errorType, string? requestId, string? date)
        {
            Status = status;
            Body = body;
            ErrorType = errorType;
            RequestId = requestId;
            _date = date;
        }

        public int Status { get; }

        public byte[] Body { get; }

        /// <summary><c>X-Amzn-ErrorType</c>.</summary>
        public string? ErrorType { get; }

        /// <summary><c>x-amzn-RequestId</c>.</summary>
        public string? RequestId { get; }

        /// <summary><c>Date</c>: the server's clock, to correct a skewed signature; null when absent or unreadable.</summary>
        public DateTimeOffset? Date =>
            _date != null && DateTimeOffset.TryParseExact(_date.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : (DateTimeOffset?)null;
    }
}
