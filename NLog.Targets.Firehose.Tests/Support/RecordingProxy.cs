using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>
    /// A loopback HTTP proxy that only proves it was used: it asks for Basic credentials (407) when
    /// <see cref="RequireCredentials"/>, records each request line and Proxy-Authorization header, and answers 503.
    /// </summary>
    internal sealed class RecordingProxy : IDisposable
    {
        private readonly TcpListener _listener = new TcpListener(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        public RecordingProxy(bool requireCredentials)
        {
            RequireCredentials = requireCredentials;
            _listener.Start();
            _ = Task.Run(AcceptLoopAsync);
        }

        public bool RequireCredentials { get; }

        public Uri Url => new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

        /// <summary>Request line, then the Proxy-Authorization header ("" when none), per request.</summary>
        public ConcurrentQueue<(string RequestLine, string ProxyAuthorization)> Requests { get; } = new ConcurrentQueue<(string, string)>();

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false);
                }
                catch (Exception) when (_stop.IsCancellationRequested)
                {
                    return;
                }
                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII, false, 1024, leaveOpen: true);
                    while (true)
                    {
                        string? requestLine = await reader.ReadLineAsync().ConfigureAwait(false);
                        if (string.IsNullOrEmpty(requestLine))
                            return;
                        string authorization = string.Empty;
                        int length = 0;
                        string? line;
                        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync().ConfigureAwait(false)))
                        {
                            if (line.StartsWith("Proxy-Authorization:", StringComparison.OrdinalIgnoreCase))
                                authorization = line.Substring(20).Trim();
                            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
                                length = int.Parse(line.Substring(15).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                        }
                        var body = new char[length];
                        int read = 0;
                        while (read < length)
                            read += await reader.ReadAsync(body, read, length - read).ConfigureAwait(false);
                        Requests.Enqueue((requestLine, authorization));
                        string response = RequireCredentials && authorization.Length == 0
                            ? "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n"
                            : "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: 58\r\n\r\n{\"__type\":\"ServiceUnavailableException\",\"message\":\"proxy\"}";
                        byte[] bytes = Encoding.ASCII.GetBytes(response);
                        await stream.WriteAsync(bytes, 0, bytes.Length).ConfigureAwait(false);
                    }
                }
                catch (IOException)
                {
                    // the client went away
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
