using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using NLog.Common;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// PutRecordBatch over <see cref="HttpClient"/> (<see cref="FirehoseHttpHandler"/>), signed by <see cref="SigV4Signer"/>
    /// with credentials from AWSSDK.Core. Credentials are resolved from the chain once (again after an error that names
    /// them); refreshing ones renew themselves before they expire and fixed keys are read at every call, so rotating
    /// credentials work. A clock-skew error is corrected (<see cref="ClockSkew"/>) and re-signed once; an expired or
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

        /// <param name="endpoint">Where to send and which region signs.</param>
        /// <param name="credentials">Credentials of a named profile; null for the SDK's default chain.</param>
        /// <param name="requestTimeout">How long one attempt may take.</param>
        /// <param name="targetName">For InternalLogger messages.</param>
        /// <param name="handler">The HTTP handler (tests); null for <see cref="FirehoseHttpHandler"/>'s.</param>
        /// <param name="proxy">The proxy for the default handler; null for the system's (<c>HTTPS_PROXY</c>, <c>NO_PROXY</c>).</param>
        /// <param name="maxConnections">Connections to the endpoint at most: one per call in flight.</param>
        public FirehoseHttpClient(FirehoseEndpoint endpoint, AWSCredentials? credentials, TimeSpan requestTimeout, string targetName,
            HttpMessageHandler? handler = null, System.Net.IWebProxy? proxy = null, int maxConnections = 16)
        {
            _endpoint = endpoint;
            _signer = new SigV4Signer(endpoint.ServiceUri, endpoint.SigningRegion, FirehoseProtocol.SigningService);
            _requestTimeout = requestTimeout;
            _fixedCredentials = credentials;
            _targetName = targetName;
            _resolver = credentials is null ? new DefaultAWSCredentialsIdentityResolver() : null;
            _http = FirehoseHttpHandler.CreateClient(handler, proxy, maxConnections);
        }

        /// <summary>The current correction applied to the local clock when signing.</summary>
        public TimeSpan ClockOffset => ClockSkew.OffsetFor(_endpoint.ServiceUri);

        public Task<PutRecordBatchResult> PutRecordBatchAsync(string deliveryStreamName, IReadOnlyList<IWireRecord> records, CancellationToken cancellationToken)
        {
            // The body goes into a pooled array: bodies are up to ~5.4 MB, and allocating one per call would churn the large
            // object heap. SendAsync returns it to the pool when the call is over.
            int length = FirehoseProtocol.RequestLength(deliveryStreamName, records);
            byte[] body = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                FirehoseProtocol.WriteRequest(deliveryStreamName, records, body);
            }
            catch
            {
                ArrayPool<byte>.Shared.Return(body);
                throw;
            }
            return SendAsync(body, length, pooledBody: true, FirehoseProtocol.Target, ParsePutResponse, records.Count, cancellationToken);
        }

        public Task<DeliveryStreamDescription> DescribeDeliveryStreamAsync(string deliveryStreamName, CancellationToken cancellationToken)
        {
            byte[] body = FirehoseProtocol.DescribeRequest(deliveryStreamName);
            return SendAsync(body, body.Length, pooledBody: false, FirehoseProtocol.DescribeTarget, static (answer, _) => FirehoseProtocol.ParseDescription(answer), 0, cancellationToken);
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

        /// <summary>
        /// Sends the body and parses the service's 200 answer with <paramref name="parse"/> (given the answer's body and
        /// <paramref name="count"/>): each attempt signed anew and within the request timeout, signed again once after
        /// clock skew and once after refreshing refused credentials; a <paramref name="pooledBody"/> goes back to the pool
        /// when the call is over. One asynchronous method for the whole call on purpose: each one more in a call's chain is
        /// compiled (three times) at start-up and boxed per call; with T a class, both operations share one compiled body.
        /// </summary>
        private async Task<T> SendAsync<T>(byte[] body, int length, bool pooledBody, string amzTarget, Func<byte[], int, T> parse, int count, CancellationToken cancellationToken)
            where T : class
        {
            // The application's trace is not ours: a call made while a logging call's Activity is current (a flush, a
            // delivery that started from the hand-over) must not become its child. Set here, in this call's own
            // asynchronous flow, it changes nothing for the caller.
            Activity.Current = null;
            try
            {
                bool clockCorrected = false;
                bool credentialsRefreshed = false;
                while (true)
                {
                    HttpResponseMessage response;
                    byte[] answer;
                    using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                    {
                        timeout.CancelAfter(_requestTimeout);
                        try
                        {
                            var keys = KeysAtHand() ?? await GetKeysAsync(timeout.Token).ConfigureAwait(false);
                            using var request = SignedRequest(body, length, amzTarget, keys);
                            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                            answer = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                        {
                            throw new TimeoutException($"{amzTarget.Substring(amzTarget.IndexOf('.') + 1)} to {_endpoint.ServiceUri.Host} took longer than {_requestTimeout.TotalSeconds:0.#} s");
                        }
                    }
                    using (response)
                    {
                        if (response.StatusCode == HttpStatusCode.OK)
                            return parse(answer, count);

                        var (code, message) = FirehoseProtocol.ParseError(answer, Header(response, "X-Amzn-ErrorType"));
                        var error = new FirehoseServiceException((int)response.StatusCode, code, message, Header(response, "x-amzn-RequestId"));
                        if (!clockCorrected && ClockSkew.TryCorrect(_endpoint.ServiceUri, code, response.Headers.Date, message, DateTime.UtcNow) is TimeSpan offset)
                        {
                            clockCorrected = true;
                            InternalLogger.Warn("{0}: Firehose reported {1}; correcting the signing clock by {2:0.#} s and signing again", _targetName, code, offset.TotalSeconds);
                            continue;
                        }
                        if (error.Kind == FailureKind.Credentials && !credentialsRefreshed)
                        {
                            credentialsRefreshed = true;
                            InternalLogger.Warn("{0}: Firehose reported {1}; resolving credentials again", _targetName, code);
                            ResetCredentials();
                            continue;
                        }
                        throw error;
                    }
                }
            }
            finally
            {
                if (pooledBody)
                    ArrayPool<byte>.Shared.Return(body);
            }
        }

        private static string? Header(HttpResponseMessage response, string name) =>
            response.Headers.TryGetValues(name, out var values) ? values.FirstOrDefault() : null;

        private HttpRequestMessage SignedRequest(byte[] body, int length, string amzTarget, ImmutableCredentials keys)
        {
            var signature = _signer.Sign(body, length, FirehoseProtocol.ContentType, amzTarget, keys, DateTime.UtcNow + ClockOffset);
            var content = new ByteArrayContent(body, 0, length);
            content.Headers.TryAddWithoutValidation("Content-Type", FirehoseProtocol.ContentType);
            var request = new HttpRequestMessage(HttpMethod.Post, _endpoint.ServiceUri) { Content = content };
            var headers = request.Headers;
            headers.TryAddWithoutValidation("X-Amz-Target", amzTarget);
            headers.TryAddWithoutValidation("User-Agent", UserAgent);
            headers.TryAddWithoutValidation("X-Amz-Date", signature.AmzDate);
            headers.TryAddWithoutValidation("X-Amz-Content-SHA256", signature.PayloadHash);
            if (signature.SecurityToken != null)
                headers.TryAddWithoutValidation("X-Amz-Security-Token", signature.SecurityToken);
            headers.TryAddWithoutValidation("Authorization", signature.Authorization);
            return request;
        }

        /// <summary>
        /// The keys when getting them cannot wait: credentials resolved before that hold fixed keys (a profile's, the
        /// environment's, given keys and token). Null when they must be resolved, fetched or renewed first (<see cref="GetKeysAsync"/>).
        /// </summary>
        private ImmutableCredentials? KeysAtHand()
        {
            var credentials = _fixedCredentials ?? Volatile.Read(ref _resolved);
            return credentials is BasicAWSCredentials || credentials is SessionAWSCredentials || credentials is EnvironmentVariablesAWSCredentials
                ? credentials.GetCredentials()
                : null;
        }

        /// <summary>Resolves the credentials (once; again after <see cref="ResetCredentials"/>), fetches or renews refreshing ones, and returns the keys.</summary>
        private async Task<ImmutableCredentials> GetKeysAsync(CancellationToken cancellationToken)
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
                // An assumed role (or a profile's or the environment's refreshing credentials): fetched or renewed here,
                // where a failure can be told apart from Firehose's own errors (they are cached until they near expiry).
                try
                {
                    return await refreshing.GetCredentialsAsync().ConfigureAwait(false);
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
            return await credentials.GetCredentialsAsync().ConfigureAwait(false);
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
