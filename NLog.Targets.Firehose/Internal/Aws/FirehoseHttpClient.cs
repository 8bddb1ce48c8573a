using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// PutRecordBatch over our own <see cref="HttpClient"/>, signed with AWSSDK.Core's public SigV4 signer.
    /// Credentials are resolved per request (the SDK caches and refreshes them), so rotating credentials work.
    /// A clock-skew error is corrected from the response's Date header and re-signed once; an expired or
    /// unrecognised token makes the credentials be resolved again once. All other retrying is the caller's.
    /// </summary>
    internal sealed class FirehoseHttpClient : IFirehoseClient
    {
        private static readonly string UserAgent = BuildUserAgent();

        private readonly HttpClient _http;
        private readonly FirehoseEndpoint _endpoint;
        private readonly SigV4Signer _signer;
        private readonly TimeSpan _requestTimeout;
        private readonly AWSCredentials? _fixedCredentials;
        private readonly string _targetName;
        private DefaultAWSCredentialsIdentityResolver? _resolver;
        private AWSCredentials? _resolved;
        private long _clockOffsetTicks;

        /// <param name="endpoint">Where to send and which region signs.</param>
        /// <param name="credentials">Credentials of a named profile; null for the SDK's default chain.</param>
        /// <param name="requestTimeout">How long one attempt may take.</param>
        /// <param name="targetName">For InternalLogger messages.</param>
        /// <param name="handler">The HTTP handler; null for the default (no redirects, pooled connections).</param>
        public FirehoseHttpClient(FirehoseEndpoint endpoint, AWSCredentials? credentials, TimeSpan requestTimeout, string targetName, HttpMessageHandler? handler = null)
            : this(endpoint, credentials, requestTimeout, targetName, handler, proxy: null)
        {
        }

        /// <param name="endpoint">Where to send and which region signs.</param>
        /// <param name="credentials">Credentials of a named profile; null for the SDK's default chain.</param>
        /// <param name="requestTimeout">How long one attempt may take.</param>
        /// <param name="targetName">For InternalLogger messages.</param>
        /// <param name="handler">The HTTP handler; null for the default (no redirects, pooled connections).</param>
        /// <param name="proxy">The proxy for the default handler; null for the system's (<c>HTTPS_PROXY</c>, <c>NO_PROXY</c>).</param>
        public FirehoseHttpClient(FirehoseEndpoint endpoint, AWSCredentials? credentials, TimeSpan requestTimeout, string targetName, HttpMessageHandler? handler, System.Net.IWebProxy? proxy)
        {
            _endpoint = endpoint;
            _signer = new SigV4Signer(endpoint.ServiceUri, endpoint.SigningRegion, FirehoseProtocol.SigningService);
            _requestTimeout = requestTimeout;
            _fixedCredentials = credentials;
            _targetName = targetName;
            _resolver = credentials is null ? new DefaultAWSCredentialsIdentityResolver() : null;
            _http = new HttpClient(handler ?? CreateDefaultHandler(proxy), disposeHandler: true) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
        }

        /// <summary>The current correction applied to the local clock when signing.</summary>
        public TimeSpan ClockOffset => TimeSpan.FromTicks(Interlocked.Read(ref _clockOffsetTicks));

        public async Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, IReadOnlyList<BufferedRecord> records, CancellationToken cancellationToken)
        {
            // The body goes into a pooled array: bodies are up to ~5.4 MB, and allocating one per call would churn the large object heap.
            int length = FirehoseProtocol.RequestLength(deliveryStreamName, records);
            byte[] body = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                FirehoseProtocol.WriteRequest(deliveryStreamName, records, body);
                return await SendWithRecoveryAsync(body, length, FirehoseProtocol.Target, ParsePutResponse, records.Count, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(body);
            }
        }

        public async Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken)
        {
            byte[] body = FirehoseProtocol.DescribeRequest(deliveryStreamName);
            return await SendWithRecoveryAsync(body, body.Length, FirehoseProtocol.DescribeTarget, (responseBody, _) => FirehoseProtocol.ParseDescription(responseBody), 0, cancellationToken).ConfigureAwait(false);
        }

        private static PutRecordBatchResult ParsePutResponse(byte[] responseBody, int count)
        {
            try
            {
                return FirehoseProtocol.ParseResponse(responseBody, count);
            }
            catch (System.Text.Json.JsonException ex)
            {
                // Which records were taken is unknown: retry the call like a lost response.
                throw new System.IO.IOException("PutRecordBatch answered 200 with a body that is not valid JSON", ex);
            }
        }

        /// <summary>Sends the body, re-signing once after clock skew and once after refreshing refused credentials.</summary>
        private async Task<T> SendWithRecoveryAsync<T>(byte[] body, int length, string amzTarget, Func<byte[], int, T> parse, int count, CancellationToken cancellationToken)
        {
            bool clockCorrected = false;
            bool credentialsRefreshed = false;
            while (true)
            {
                var (status, responseBody, errorType, requestId, serverDate) = await SendOnceAsync(body, length, amzTarget, cancellationToken).ConfigureAwait(false);
                if (status == 200)
                    return parse(responseBody, count);

                var (code, message) = FirehoseProtocol.ParseError(responseBody, errorType);
                var error = new FirehoseServiceException(status, code, message, requestId);
                var kind = error.Kind;
                if (kind == FailureKind.ClockSkew && !clockCorrected && serverDate.HasValue)
                {
                    clockCorrected = true;
                    var offset = serverDate.Value.UtcDateTime - DateTime.UtcNow;
                    Interlocked.Exchange(ref _clockOffsetTicks, offset.Ticks);
                    InternalLogger.Warn("{0}: Firehose reported {1}; correcting the signing clock by {2:0.#} s and signing again", _targetName, code, offset.TotalSeconds);
                    continue;
                }
                if (kind == FailureKind.Credentials && !credentialsRefreshed)
                {
                    credentialsRefreshed = true;
                    InternalLogger.Warn("{0}: Firehose reported {1}; resolving credentials again", _targetName, code);
                    ResetCredentials();
                    continue;
                }
                throw error;
            }
        }

        private async Task<(int Status, byte[] Body, string? ErrorType, string? RequestId, DateTimeOffset? Date)> SendOnceAsync(byte[] body, int length, string amzTarget, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_requestTimeout);
            try
            {
                var credentials = await GetCredentialsAsync(timeout.Token).ConfigureAwait(false);
                using var request = await CreateSignedRequestAsync(body, length, amzTarget, credentials).ConfigureAwait(false);
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                byte[] responseBody = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                if (response.StatusCode == System.Net.HttpStatusCode.OK)
                    return (200, responseBody, null, null, null); // the headers matter only to an error (and parsing them costs every call)
                string? errorType = response.Headers.TryGetValues("X-Amzn-ErrorType", out var types) ? types.FirstOrDefault() : null;
                string? requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
                return ((int)response.StatusCode, responseBody, errorType, requestId, response.Headers.Date);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"{amzTarget.Substring(amzTarget.IndexOf('.') + 1)} to {_endpoint.ServiceUri.Host} took longer than {_requestTimeout.TotalSeconds:0.#} s");
            }
        }

        private async Task<HttpRequestMessage> CreateSignedRequestAsync(byte[] body, int length, string amzTarget, AWSCredentials credentials)
        {
            var keys = await credentials.GetCredentialsAsync().ConfigureAwait(false);
            var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.ServiceUri);
            var content = new ByteArrayContent(body, 0, length);
            content.Headers.TryAddWithoutValidation("Content-Type", FirehoseProtocol.ContentType);
            request.Content = content;
            request.Headers.TryAddWithoutValidation("X-Amz-Target", amzTarget);
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            _signer.Sign(request, body, length, FirehoseProtocol.ContentType, amzTarget, keys, DateTime.UtcNow + ClockOffset);
            return request;
        }

        private async Task<AWSCredentials> GetCredentialsAsync(CancellationToken cancellationToken)
        {
            var credentials = _fixedCredentials ?? Volatile.Read(ref _resolved);
            if (credentials is null)
            {
                var resolver = Volatile.Read(ref _resolver) ?? throw new ObjectDisposedException(nameof(FirehoseHttpClient));
                try
                {
                    // Resolved once, not for every call (the chain's walk cost ~0.1 ms a call); refreshing credentials the
                    // chain returns renew themselves, and an error that names the credentials resolves again.
                    credentials = await resolver.ResolveIdentityAsync(null, cancellationToken).ConfigureAwait(false);
                }
                catch (AmazonClientException ex)
                {
                    // No credentials anywhere in the chain: a configuration problem, not worth retrying in a loop.
                    throw new FirehoseServiceException(0, "NoCredentials", ex.Message, null);
                }
                Volatile.Write(ref _resolved, credentials);
            }
            if (credentials is RefreshingAWSCredentials refreshing)
            {
                // An assumed role (or a profile's or the environment's refreshing credentials): fetch or renew them here,
                // where a failure can be told apart from Firehose's own errors; the signer then finds them cached.
                try
                {
                    await refreshing.GetCredentialsAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AmazonClientException || ex is AmazonServiceException || ex is System.Net.Http.HttpRequestException)
                {
                    // The SDK wraps STS's own error (AccessDenied, say) in "Error calling AssumeRole…": report both.
                    var service = Innermost<AmazonServiceException>(ex);
                    string reason = service != null && service != ex ? $"{ex.Message} ({service.ErrorCode}: {service.Message})" : ex.Message;
                    bool transient = service is null ? Innermost<System.Net.Http.HttpRequestException>(ex) != null
                        : (int)service.StatusCode >= 500 || service.ErrorCode == "Throttling";
                    if (transient)
                        throw new System.IO.IOException("could not get credentials: " + reason, ex);
                    throw new FirehoseServiceException(0, "CredentialsUnavailable", "could not get credentials: " + reason, service?.RequestId);
                }
            }
            return credentials;
        }

        private static T? Innermost<T>(Exception? ex)
            where T : Exception
        {
            T? found = null;
            for (; ex != null; ex = ex.InnerException)
            {
                if (ex is T match)
                    found = match;
            }
            return found;
        }

        private void ResetCredentials()
        {
            if (_fixedCredentials is RefreshingAWSCredentials refreshing)
            {
                refreshing.ClearCredentials();
                return;
            }
            if (_fixedCredentials is null)
            {
                Volatile.Write(ref _resolved, null);
                var fresh = new DefaultAWSCredentialsIdentityResolver();
                Interlocked.Exchange(ref _resolver, fresh)?.Dispose();
            }
        }

        private static HttpMessageHandler CreateDefaultHandler(System.Net.IWebProxy? proxy)
        {
#if NET8_0_OR_GREATER
            return new SocketsHttpHandler
            {
                // Null: the system's proxy, from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (ALL_PROXY) as .NET reads them.
                Proxy = proxy,
                UseProxy = true,
                AllowAutoRedirect = false,
                // Recycle connections so DNS changes of the regional endpoint are picked up.
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                PooledConnectionIdleTimeout = TimeSpan.FromSeconds(50),
                ConnectTimeout = TimeSpan.FromSeconds(10),
                MaxConnectionsPerServer = 16,
            };
#else
            var handler = new HttpClientHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 16, UseProxy = true };
            if (proxy != null)
                handler.Proxy = proxy;
            return handler;
#endif
        }

        private static string BuildUserAgent()
        {
            string version = typeof(FirehoseHttpClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
            int plus = version.IndexOf('+');
            if (plus > 0)
                version = version.Substring(0, plus);
            string coreVersion = typeof(AWSCredentials).Assembly.GetName().Version?.ToString() ?? "4";
            return $"NLog.Targets.Firehose/{version} aws-sdk-dotnet-core/{coreVersion} md/{System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription.Replace(' ', '_')}";
        }

        public void Dispose()
        {
            _http.Dispose();
            Interlocked.Exchange(ref _resolver, null)?.Dispose();
        }
    }
}
