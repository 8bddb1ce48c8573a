using System;
using System.Net;
using System.Net.Http;

namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>
    /// The <see cref="HttpClient"/> the target sends through, set up as one long-lived client for one endpoint: pooled
    /// connections recycled now and then (so a DNS change of the regional endpoint is picked up), no cookies, no
    /// redirects (a redirected call would carry a signature for another host), no decompression (Firehose answers small
    /// JSON), a cap on what an answer may hold, and no part in the application's traces.
    /// </summary>
    internal static class FirehoseHttpHandler
    {
        /// <summary>How long a connection is reused before a new one is opened: DNS changes are seen within this.</summary>
        internal static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);

        /// <summary>Below the idle timeouts of AWS's load balancers (60 s), so a pooled connection is not closed under a call.</summary>
        internal static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(50);

        /// <summary>A connection that takes longer is a network problem, retried like one (the call's own timeout is longer).</summary>
        internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

        /// <summary>
        /// The most an answer may hold. Firehose answers a 500-record call with ~40 KB (~100 KB when every record failed
        /// with a message); anything far larger is not Firehose (a wrong endpoint, a proxy's page) and is refused like a
        /// lost answer rather than buffered whole.
        /// </summary>
        internal const int MaxResponseBytes = 1024 * 1024;

        /// <summary>A client over the default handler (or <paramref name="handler"/>, a test's), never timing out on its own: each call has its timeout.</summary>
        public static HttpClient CreateClient(HttpMessageHandler? handler, IWebProxy? proxy, int maxConnections) =>
            new HttpClient(handler ?? CreateHandler(proxy, maxConnections), disposeHandler: true)
            {
                Timeout = System.Threading.Timeout.InfiniteTimeSpan,
                MaxResponseContentBufferSize = MaxResponseBytes,
            };

        /// <param name="proxy">The proxy; null for the system's (<c>HTTPS_PROXY</c>, <c>HTTP_PROXY</c>, <c>NO_PROXY</c>).</param>
        /// <param name="maxConnections">At most one connection per call in flight (<c>maxConcurrentRequests</c>).</param>
        public static HttpMessageHandler CreateHandler(IWebProxy? proxy, int maxConnections)
        {
#if NET8_0_OR_GREATER
            return new SocketsHttpHandler
            {
                Proxy = proxy,
                UseProxy = true,
                UseCookies = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                PooledConnectionLifetime = Lifetime,
                PooledConnectionIdleTimeout = IdleTimeout,
                ConnectTimeout = ConnectTimeout,
                MaxConnectionsPerServer = Math.Max(1, maxConnections),
                MaxResponseHeadersLength = 64, // KiB: Firehose sends a handful of short headers
                // No propagator: the handler then adds no tracing stage, so a call is no span in the application's traces
                // and carries none of its trace headers (the delivery loop also runs with no ambient Activity).
                ActivityHeadersPropagator = null,
            };
#else
            var handler = new HttpClientHandler
            {
                UseProxy = true,
                UseCookies = false,
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.None,
                MaxConnectionsPerServer = Math.Max(1, maxConnections),
            };
            if (proxy != null)
                handler.Proxy = proxy;
            return handler;
#endif
        }
    }
}
