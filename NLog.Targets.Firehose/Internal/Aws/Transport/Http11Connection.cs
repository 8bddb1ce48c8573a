#if NET8_0_OR_GREATER
using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Internal.Aws.Transport
{
    /// <summary>
    /// One HTTP/1.1 connection (TCP, with TLS for https): writes a request, reads its answer (Content-Length, chunked, or
    /// up to the connection's end; interim 1xx answers skipped) with <see cref="Http11Parser"/>, and says whether it may
    /// carry another request. One request at a time.
    /// </summary>
    internal sealed class Http11Connection : IDisposable
    {
        /// <summary>An answer's status line and headers together may not be longer.</summary>
        internal const int MaxHeaderBytes = 64 * 1024;

        /// <summary>An answer's body may not be longer (a PutRecordBatch answer for 500 records is ~60 KB).</summary>
        internal const int MaxBodyBytes = 16 * 1024 * 1024;

        private static readonly List<SslApplicationProtocol> Http11Only = new List<SslApplicationProtocol> { SslApplicationProtocol.Http11 };

        private readonly Stream _stream;
        private readonly Socket? _socket;
        private byte[] _buffer;
        private int _start;
        private int _end;
        private int _disposed;

        /// <param name="stream">The connection's stream; disposed with it.</param>
        /// <param name="socket">Its socket, to look at while idle; null for a stream without one (tests).</param>
        public Http11Connection(Stream stream, Socket? socket)
        {
            _stream = stream;
            _socket = socket;
            _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
            OpenedAt = Environment.TickCount64;
            IdleSince = OpenedAt;
        }

        /// <summary>When the connection was opened (<see cref="Environment.TickCount64"/>).</summary>
        public long OpenedAt { get; }

        /// <summary>When the connection last finished a request (<see cref="Environment.TickCount64"/>).</summary>
        public long IdleSince { get; set; }

        /// <summary>True once any byte of the current request's answer arrived.</summary>
        public bool AnswerStarted { get; private set; }

        /// <summary>After <see cref="SendAsync"/>: whether the connection may carry another request.</summary>
        public bool KeepAlive { get; private set; }

        /// <summary>Opens a connection to <paramref name="host"/>:<paramref name="port"/>, with TLS when <paramref name="tls"/>.</summary>
        /// <exception cref="HttpRequestException">The connection or its TLS handshake failed.</exception>
        public static async Task<Http11Connection> OpenAsync(string host, int port, bool tls, RemoteCertificateValidationCallback? validation, CancellationToken cancellationToken)
        {
            // A dual-mode socket where the system has IPv6 (else IPv4); a host name is tried address by address.
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            Stream? stream = null;
            try
            {
                await socket.ConnectAsync(new DnsEndPoint(host, port), cancellationToken).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: true);
                if (tls)
                {
                    var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                    stream = ssl;
                    await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                    {
                        TargetHost = host,
                        ApplicationProtocols = Http11Only,
                        RemoteCertificateValidationCallback = validation,
                        CertificateRevocationCheckMode = X509RevocationMode.NoCheck, // as HttpClient's default
                    }, cancellationToken).ConfigureAwait(false);
                }
                return new Http11Connection(stream, socket);
            }
            catch (Exception ex) when (ex is SocketException || ex is IOException || ex is AuthenticationException)
            {
                Close(stream, socket);
                string what = ex is AuthenticationException ? "the TLS connection could not be established" : "could not connect";
                throw new HttpRequestException($"{what} to {host}:{port.ToString(CultureInfo.InvariantCulture)}: {ex.Message}", ex);
            }
            catch
            {
                Close(stream, socket);
                throw;
            }
        }

        private static void Close(Stream? stream, Socket socket)
        {
            if (stream != null)
                stream.Dispose();
            else
                socket.Dispose();
        }

        /// <summary>
        /// True when an idle connection can take a request: nothing arrived on it meanwhile (an idle connection that
        /// turns readable was closed by the server, or sent something no request asked for).
        /// </summary>
        public bool IsReusable()
        {
            if (Volatile.Read(ref _disposed) != 0 || _start != _end)
                return false;
            if (_socket is null)
                return true;
            try
            {
                return !_socket.Poll(0, SelectMode.SelectRead);
            }
            catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException)
            {
                return false;
            }
        }

        /// <summary>
        /// Writes <paramref name="head"/> (request line and headers) and the body, then reads the answer. One asynchronous
        /// method on purpose: each one more is compiled (and its state machine boxed) at start-up.
        /// </summary>
        /// <exception cref="IOException">The connection failed or closed, or the answer is malformed.</exception>
        public async Task<HttpAnswer> SendAsync(byte[] head, int headLength, byte[] body, int length, CancellationToken cancellationToken)
        {
            AnswerStarted = false;
            KeepAlive = false;
            await _stream.WriteAsync(head.AsMemory(0, headLength), cancellationToken).ConfigureAwait(false);
            if (length > 0)
                await _stream.WriteAsync(body.AsMemory(0, length), cancellationToken).ConfigureAwait(false);

            while (true)
            {
                int headEnd;
                while ((headEnd = Http11Parser.HeadLength(_buffer.AsSpan(_start, _end - _start))) < 0)
                {
                    if (_end - _start >= MaxHeaderBytes)
                        throw new IOException($"the answer's head is longer than {MaxHeaderBytes} bytes");
                    MakeRoom();
                    int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                        throw new IOException(AnswerStarted ? "the connection was closed before the answer was complete" : "the connection was closed before an answer arrived");
                    AnswerStarted = true;
                    _end += read;
                }
                var answer = Http11Parser.ParseHead(_buffer.AsSpan(_start, headEnd));
                _start += headEnd;
                if (answer.Status < 200)
                {
                    if (answer.Status == 101)
                        throw new IOException("the server switched protocols, which this request did not ask for");
                    continue; // an interim answer (100 Continue, 103 Early Hints): the real one follows
                }

                byte[] answerBody;
                bool close = answer.Close;
                if (answer.Status == 204 || answer.Status == 304)
                {
                    answerBody = Array.Empty<byte>();
                }
                else if (answer.Chunked)
                {
                    int total;
                    int dataLength;
                    while ((total = Http11Parser.ChunkedLength(_buffer.AsSpan(_start, _end - _start), MaxBodyBytes, out dataLength)) < 0)
                    {
                        MakeRoom();
                        int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                            throw new IOException("the connection was closed before the answer was complete");
                        _end += read;
                    }
                    answerBody = new byte[dataLength];
                    Http11Parser.DecodeChunked(_buffer.AsSpan(_start, total), answerBody);
                    _start += total;
                }
                else if (answer.ContentLength >= 0)
                {
                    if (answer.ContentLength > MaxBodyBytes)
                        throw new IOException($"the answer's body ({answer.ContentLength} bytes) is longer than {MaxBodyBytes} bytes");
                    answerBody = new byte[answer.ContentLength];
                    int filled = Math.Min(answerBody.Length, _end - _start);
                    Buffer.BlockCopy(_buffer, _start, answerBody, 0, filled);
                    _start += filled;
                    while (filled < answerBody.Length)
                    {
                        int read = await _stream.ReadAsync(answerBody.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                            throw new IOException("the connection was closed before the answer was complete");
                        filled += read;
                    }
                }
                else
                {
                    // Neither a length nor chunks: the body is what comes until the server closes the connection.
                    while (true)
                    {
                        if (_end - _start > MaxBodyBytes)
                            throw new IOException($"the answer's body is longer than {MaxBodyBytes} bytes");
                        MakeRoom();
                        int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                        if (read == 0)
                            break;
                        _end += read;
                    }
                    answerBody = _buffer.AsSpan(_start, _end - _start).ToArray();
                    _start = _end;
                    close = true;
                }

                // Bytes after the answer were not asked for: the connection's state is unknown, so it is not used again.
                KeepAlive = !close && _start == _end;
                return new HttpAnswer(answer.Status, answerBody, answer.ErrorType, answer.RequestId, answer.Date);
            }
        }

        /// <summary>Makes room to read into after <c>_end</c>: moves what is unread to the buffer's start, or grows it when full.</summary>
        private void MakeRoom()
        {
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_start > 0 && _end == _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
                Buffer.BlockCopy(_buffer, _start, larger, 0, _end - _start);
                _end -= _start;
                _start = 0;
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = larger;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
                return;
            try
            {
                _stream.Dispose();
            }
            catch (Exception ex) when (ex is IOException || ex is SocketException || ex is ObjectDisposedException)
            {
                // Closing a broken connection: nothing to do.
            }
            _socket?.Dispose();
            var buffer = _buffer;
            _buffer = Array.Empty<byte>();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
#endif
