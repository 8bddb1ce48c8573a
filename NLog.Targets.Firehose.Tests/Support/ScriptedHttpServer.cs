using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>
    /// A loopback HTTP/1.1 server (optionally TLS) whose answers a test scripts per connection and request: the script
    /// returns the answer's bytes as text (after <see cref="CloseAfterAnswer"/>: then the connection is closed), or null
    /// to close the connection without answering. It reads each request's head and Content-Length body, and records them.
    /// </summary>
    internal sealed class ScriptedHttpServer : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly Func<int, int, string?> _script;
        private readonly X509Certificate2? _certificate;
        private int _connections;
        private int _closed;

        /// <summary>An answer that starts with this is sent without it, and the connection is closed after it.</summary>
        public const string CloseAfterAnswer = "<close-after>";

        /// <param name="script">(connection number from 0, request number on it from 0) → the answer, or null to close.</param>
        /// <param name="certificate">Serve TLS with this certificate.</param>
        public ScriptedHttpServer(Func<int, int, string?> script, X509Certificate2? certificate = null)
        {
            _script = script;
            _certificate = certificate;
            _listener.Start();
            _ = Task.Run(AcceptLoopAsync);
        }

        public Uri Url => new Uri($"{(_certificate is null ? "http" : "https")}://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

        /// <summary>Connections accepted so far.</summary>
        public int Connections => Volatile.Read(ref _connections);

        /// <summary>Each request's head, as received.</summary>
        public ConcurrentQueue<string> RequestHeads { get; } = new ConcurrentQueue<string>();

        /// <summary>Each request's body, as received.</summary>
        public ConcurrentQueue<byte[]> RequestBodies { get; } = new ConcurrentQueue<byte[]>();

        /// <summary>TLS handshakes that failed (the client refused the certificate, say).</summary>
        public int FailedHandshakes;

        /// <summary>A self-signed certificate for 127.0.0.1 and localhost, with its private key.</summary>
        public static X509Certificate2 CreateCertificate()
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest("CN=NLog.Targets.Firehose test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        }

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException || ex is ObjectDisposedException || ex is SocketException)
                {
                    return;
                }
                int number = Interlocked.Increment(ref _connections) - 1;
                _ = Task.Run(() => ServeAsync(client, number));
            }
        }

        private async Task ServeAsync(TcpClient client, int connection)
        {
            using (client)
            {
                try
                {
                    await ServeConnectionAsync(client, connection);
                }
                finally
                {
                    client.Close();
                    lock (_closedWaiters)
                    {
                        _closed++;
                        foreach (var waiter in _closedWaiters)
                            waiter.TrySetResult();
                    }
                }
            }
        }

        private readonly System.Collections.Generic.List<TaskCompletionSource> _closedWaiters = new System.Collections.Generic.List<TaskCompletionSource>();

        /// <summary>Completes once the server has closed at least <paramref name="count"/> connections.</summary>
        public async Task WaitForClosedConnectionsAsync(int count)
        {
            while (true)
            {
                var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                lock (_closedWaiters)
                {
                    if (_closed >= count)
                        return;
                    _closedWaiters.Add(signal);
                }
                await signal.Task.WaitAsync(TimeSpan.FromMinutes(1));
            }
        }

        private async Task ServeConnectionAsync(TcpClient client, int connection)
        {
            {
                Stream stream = client.GetStream();
                try
                {
                    if (_certificate != null)
                    {
                        var ssl = new SslStream(stream);
                        try
                        {
                            await ssl.AuthenticateAsServerAsync(_certificate);
                        }
                        catch (Exception ex) when (ex is IOException || ex is System.Security.Authentication.AuthenticationException)
                        {
                            Interlocked.Increment(ref FailedHandshakes);
                            return;
                        }
                        stream = ssl;
                    }
                    var buffer = new MemoryStream();
                    var chunk = new byte[8192];
                    for (int request = 0; ; request++)
                    {
                        int headEnd;
                        while ((headEnd = IndexOf(buffer, "\r\n\r\n")) < 0)
                        {
                            int read = await stream.ReadAsync(chunk, _stop.Token);
                            if (read == 0)
                                return;
                            buffer.Write(chunk, 0, read);
                        }
                        string head = Encoding.ASCII.GetString(buffer.GetBuffer(), 0, headEnd);
                        int length = ContentLength(head);
                        while (buffer.Length < headEnd + 4 + length)
                        {
                            int read = await stream.ReadAsync(chunk, _stop.Token);
                            if (read == 0)
                                return;
                            buffer.Write(chunk, 0, read);
                        }
                        RequestHeads.Enqueue(head);
                        RequestBodies.Enqueue(buffer.GetBuffer().AsSpan(headEnd + 4, length).ToArray());
                        var rest = buffer.GetBuffer().AsSpan(headEnd + 4 + length, (int)buffer.Length - headEnd - 4 - length).ToArray();
                        buffer = new MemoryStream();
                        buffer.Write(rest);

                        string? answer = _script(connection, request);
                        if (answer is null)
                            return; // closes the connection without answering
                        bool closeAfter = answer.StartsWith(CloseAfterAnswer, StringComparison.Ordinal);
                        await stream.WriteAsync(Encoding.ASCII.GetBytes(closeAfter ? answer.Substring(CloseAfterAnswer.Length) : answer), _stop.Token);
                        if (closeAfter)
                            return;
                    }
                }
                catch (Exception ex) when (ex is IOException || ex is OperationCanceledException || ex is ObjectDisposedException)
                {
                    // The client went away, or the server stops.
                }
            }
        }

        private static int IndexOf(MemoryStream buffer, string text) =>
            buffer.GetBuffer().AsSpan(0, (int)buffer.Length).IndexOf(Encoding.ASCII.GetBytes(text));

        private static int ContentLength(string head)
        {
            foreach (string line in head.Split("\r\n"))
            {
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                    return int.Parse(line.Substring("Content-Length:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
            return 0;
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
