#if NET8_0_OR_GREATER
using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Aws.Transport
{
    /// <summary>
    /// The POST over our own HTTP/1.1 connections (TCP, TLS for https), kept open and reused: recycled after
    /// <see cref="Lifetime"/> (so DNS changes of the regional endpoint are picked up) and when idle for
    /// <see cref="IdleTimeout"/>; one connection per call in flight. Used when no proxy applies. Written because
    /// HttpClient's general machinery compiled for ~0.6 s more at every process's start and cost more CPU per call
    /// (README, "Dependencies and why"); a Firehose call needs one request shape and three answer headers.
    /// </summary>
    internal sealed class SocketTransport : IHttpTransport
    {
        internal static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(5);
        internal static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(50);
        internal static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

        private readonly string _host;
        private readonly int _port;
        private readonly bool _tls;
        private readonly RemoteCertificateValidationCallback? _certificateValidation;
        private readonly byte[] _requestStart;
        private readonly ConcurrentStack<Http11Connection> _idle = new ConcurrentStack<Http11Connection>();
        private int _disposed;
        private int _connectionsOpened;

        /// <param name="uri">The endpoint: http or https.</param>
        /// <param name="certificateValidation">Replaces the system's validation of the server's certificate (tests only).</param>
        public SocketTransport(Uri uri, RemoteCertificateValidationCallback? certificateValidation = null)
        {
            _host = uri.DnsSafeHost;
            _port = uri.Port;
            _tls = uri.Scheme == Uri.UriSchemeHttps;
            _certificateValidation = certificateValidation;
            _requestStart = Encoding.ASCII.GetBytes("POST " + uri.PathAndQuery + " HTTP/1.1\r\nHost: " + SigV4Signer.HostHeader(uri) + "\r\n");
        }

        /// <summary>Connections opened so far.</summary>
        internal int ConnectionsOpened => Volatile.Read(ref _connectionsOpened);

        public async Task<HttpAnswer> PostAsync(IReadOnlyList<KeyValuePair<string, string>> headers, byte[] body, int length, CancellationToken cancellationToken)
        {
            var (head, headLength) = WriteHead(headers, length);
            try
            {
                var connection = TakeIdle() ?? await OpenAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var answer = await connection.SendAsync(head, headLength, body, length, cancellationToken).ConfigureAwait(false);
                    Release(connection, connection.KeepAlive);
                    return answer;
                }
                catch
                {
                    // Never sent again here, even on a kept-open connection the server may have closed as the request went:
                    // whether the server took the request is unknown, and the caller, which counts calls of unknown outcome,
                    // decides. Idle connections the server closed are found before use.
                    connection.Dispose();
                    throw;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(head);
            }
        }

        private (byte[] Head, int Length) WriteHead(IReadOnlyList<KeyValuePair<string, string>> headers, int contentLength)
        {
            int size = _requestStart.Length + 40;
            for (int i = 0; i < headers.Count; i++)
                size += headers[i].Key.Length + headers[i].Value.Length + 4;
            byte[] head = ArrayPool<byte>.Shared.Rent(size);
            int at = 0;
            Buffer.BlockCopy(_requestStart, 0, head, 0, _requestStart.Length);
            at += _requestStart.Length;
            for (int i = 0; i < headers.Count; i++)
            {
                at = Append(head, at, headers[i].Key, headers[i].Key);
                head[at++] = (byte)':';
                head[at++] = (byte)' ';
                at = Append(head, at, headers[i].Value, headers[i].Key);
                head[at++] = (byte)'\r';
                head[at++] = (byte)'\n';
            }
            at = Append(head, at, "Content-Length: " + contentLength.ToString(CultureInfo.InvariantCulture), "Content-Length");
            head[at++] = (byte)'\r';
            head[at++] = (byte)'\n';
            head[at++] = (byte)'\r';
            head[at++] = (byte)'\n';
            return (head, at);
        }

        private static int Append(byte[] head, int at, string text, string header)
        {
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                // A header value is one line of visible ASCII: a line break in one (from a credential, say) would start a header
                // of its own.
                if (c == '\r' || c == '\n' || c > 126)
                    throw new InvalidOperationException($"the request header {header} contains a line break or a character outside ASCII");
                head[at++] = (byte)c;
            }
            return at;
        }

        private Http11Connection? TakeIdle()
        {
            long now = Environment.TickCount64;
            while (_idle.TryPop(out var connection))
            {
                if (now - connection.IdleSince < IdleTimeout.TotalMilliseconds && now - connection.OpenedAt < Lifetime.TotalMilliseconds && connection.IsReusable())
                    return connection;
                connection.Dispose();
            }
            return null;
        }

        private void Release(Http11Connection connection, bool keepAlive)
        {
            long now = Environment.TickCount64;
            if (!keepAlive || now - connection.OpenedAt >= Lifetime.TotalMilliseconds || Volatile.Read(ref _disposed) != 0)
            {
                connection.Dispose();
                return;
            }
            connection.IdleSince = now;
            _idle.Push(connection);
            if (Volatile.Read(ref _disposed) != 0)
                DisposeIdle();
        }

        private async Task<Http11Connection> OpenAsync(CancellationToken cancellationToken)
        {
            if (Volatile.Read(ref _disposed) != 0)
                throw new ObjectDisposedException(nameof(SocketTransport));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ConnectTimeout);
            try
            {
                var connection = await Http11Connection.OpenAsync(_host, _port, _tls, _certificateValidation, timeout.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _connectionsOpened);
                return connection;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"connecting to {_host}:{_port.ToString(CultureInfo.InvariantCulture)} took longer than {ConnectTimeout.TotalSeconds:0} s");
            }
        }

        private void DisposeIdle()
        {
            while (_idle.TryPop(out var connection))
                connection.Dispose();
        }

        public void Dispose()
        {
            Interlocked.Exchange(ref _disposed, 1);
            DisposeIdle();
        }
    }
}
#endif
