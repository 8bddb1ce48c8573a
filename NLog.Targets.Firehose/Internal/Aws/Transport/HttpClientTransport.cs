using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Aws.Transport
{
    /// <summary>
    /// The POST over <see cref="HttpClient"/>: used with a proxy (explicit or the system's), on netstandard2.0, and with a
    /// handler a test provides.
    /// </summary>
    internal sealed class HttpClientTransport : IHttpTransport
    {
        private readonly HttpClient _http;
        private readonly Uri _uri;

        public HttpClientTransport(Uri uri, HttpMessageHandler? handler, System.Net.IWebProxy? proxy)
        {
            _uri = uri;
            _http = new HttpClient(handler ?? CreateDefaultHandler(proxy), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        }

        public async Task<HttpAnswer> PostAsync(IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body, int length, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _uri);
            var content = new ByteArrayContent(body, 0, length);
            request.Content = content;
            for (int i = 0; i < headers.Count; i++)
            {
                var header = headers[i];
                if (!request.Headers.TryAddWithoutValidation(header.Key, header.Value))
                    content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            byte[] responseBody = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (response.StatusCode == System.Net.HttpStatusCode.OK)
                return new HttpAnswer(200, responseBody, null, null, null); // the headers matter only to an error (and parsing them costs every call)
            string? errorType = response.Headers.TryGetValues("X-Amzn-ErrorType", out var types) ? types.FirstOrDefault() : null;
            string? requestId = response.Headers.TryGetValues("x-amzn-RequestId", out var ids) ? ids.FirstOrDefault() : null;
            return new HttpAnswer((int)response.StatusCode, responseBody, errorType, requestId, response.Headers.Date?.ToString("r", System.Globalization.CultureInfo.InvariantCulture));
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
                // Connections recycled (so DNS changes of the regional endpoint are picked up) and connected as our own are.
                PooledConnectionLifetime = SocketTransport.Lifetime,
                PooledConnectionIdleTimeout = SocketTransport.IdleTimeout,
                ConnectTimeout = SocketTransport.ConnectTimeout,
                MaxConnectionsPerServer = 16,
            };
#else
            var handler = new HttpClientHandler { AllowAutoRedirect = false, MaxConnectionsPerServer = 16, UseProxy = true };
            if (proxy != null)
                handler.Proxy = proxy;
            return handler;
#endif
        }

        public void Dispose() => _http.Dispose();
    }
}
