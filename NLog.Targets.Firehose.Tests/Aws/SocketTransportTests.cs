using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Aws.Transport;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// Our own HTTP/1.1 transport over real sockets: what it sends, kept-open connections and their recycling, a stale
    /// connection, TLS with a trusted and an untrusted certificate, and which transport a target gets.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class SocketTransportTests
    {
        private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";

        private const string CloseAfter = ScriptedHttpServer.CloseAfterAnswer;

        private static readonly KeyValuePair<string, string>[] Headers =
        {
            new KeyValuePair<string, string>("Content-Type", "application/x-amz-json-1.1"),
            new KeyValuePair<string, string>("X-Amz-Target", "Firehose_20150804.PutRecordBatch"),
        };

        /// <summary>A validation that trusts exactly <paramref name="certificate"/> (the tests' self-signed one), nothing else.</summary>
        private static System.Net.Security.RemoteCertificateValidationCallback TrustOnly(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate)
        {
            string thumbprint = certificate.Thumbprint;
            return (sender, presented, chain, errors) => presented?.GetCertHashString() == thumbprint;
        }

        private static Task<HttpAnswer> PostAsync(SocketTransport transport, string body) =>
            transport.PostAsync(Headers, Encoding.UTF8.GetBytes(body + "unsent tail"), Encoding.UTF8.GetByteCount(body), CancellationToken.None);

        [TestMethod]
        public async Task Post_SendsOneWellFormedRequest_AndKeepsTheConnectionForTheNext()
        {
            using var server = new ScriptedHttpServer((connection, request) => Ok);
            using var transport = new SocketTransport(new Uri(server.Url, "/path?q=1"));
            for (int i = 0; i < 3; i++)
            {
                var answer = await PostAsync(transport, "{\"n\":" + i + "}");
                Assert.AreEqual(200, answer.Status);
                Assert.AreEqual("{}", Encoding.ASCII.GetString(answer.Body));
            }
            Assert.AreEqual(1, server.Connections, "one kept-open connection");
            Assert.AreEqual(1, transport.ConnectionsOpened);
            string head = server.RequestHeads.First();
            Assert.AreEqual("POST /path?q=1 HTTP/1.1", head.Split("\r\n")[0]);
            StringAssert.Contains(head, "\r\nHost: 127.0.0.1:" + server.Url.Port + "\r\n");
            StringAssert.Contains(head, "\r\nX-Amz-Target: Firehose_20150804.PutRecordBatch\r\n");
            StringAssert.Contains(head, "\r\nContent-Length: 7");
            CollectionAssert.AreEqual(new[] { "{\"n\":0}", "{\"n\":1}", "{\"n\":2}" }, server.RequestBodies.Select(b => Encoding.UTF8.GetString(b)).ToArray());
        }

        [TestMethod]
        public async Task Post_KeptConnectionClosedByTheServerWhenTheRequestArrives_FailsOnce_NotSentAgainHere()
        {
            // The server takes the second request on the first connection and closes without answering (the race of a
            // server closing an idle connection just as a request goes). Whether it kept the request is unknown: the
            // call fails (the pipeline counts it as a call of unknown outcome and sends it again), and the next call
            // goes on a new connection.
            using var server = new ScriptedHttpServer((connection, request) => connection == 0 && request == 1 ? null : Ok);
            using var transport = new SocketTransport(server.Url);
            Assert.AreEqual(200, (await PostAsync(transport, "first")).Status);
            await Assert.ThrowsExactlyAsync<IOException>(() => PostAsync(transport, "second"));
            Assert.AreEqual(200, (await PostAsync(transport, "third")).Status);
            Assert.AreEqual(2, transport.ConnectionsOpened);
            CollectionAssert.AreEqual(new[] { "first", "second", "third" }, server.RequestBodies.Select(b => Encoding.UTF8.GetString(b)).ToArray());
        }

        [TestMethod]
        public async Task Post_IdleConnectionTheServerClosed_IsFoundBeforeUse_TheRequestGoesOnANewOne()
        {
            using var server = new ScriptedHttpServer((connection, request) => CloseAfter + Ok);
            using var transport = new SocketTransport(server.Url);
            Assert.AreEqual(200, (await PostAsync(transport, "first")).Status);
            await server.WaitForClosedConnectionsAsync(1);
            Assert.AreEqual(200, (await PostAsync(transport, "second")).Status, "the closed connection was not used");
            Assert.AreEqual(2, transport.ConnectionsOpened);
            CollectionAssert.AreEqual(new[] { "first", "second" }, server.RequestBodies.Select(b => Encoding.UTF8.GetString(b)).ToArray());
        }

        [TestMethod]
        public async Task Post_NewConnectionClosedWithoutAnAnswer_FailsWithoutSendingAgain()
        {
            using var server = new ScriptedHttpServer((connection, request) => null);
            using var transport = new SocketTransport(server.Url);
            var ex = await Assert.ThrowsExactlyAsync<IOException>(() => PostAsync(transport, "only once"));
            StringAssert.Contains(ex.Message, "closed before an answer arrived");
            Assert.AreEqual(1, server.RequestBodies.Count, "the call's outcome is the pipeline's to handle: not sent twice here");
        }

        [TestMethod]
        public async Task Post_ServerClosesAfterAnswering_NextRequestOpensANewConnection()
        {
            using var server = new ScriptedHttpServer((connection, request) => "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
            using var transport = new SocketTransport(server.Url);
            await PostAsync(transport, "a");
            await PostAsync(transport, "b");
            Assert.AreEqual(2, server.Connections);
            Assert.AreEqual(2, server.RequestBodies.Count);
        }

        [TestMethod]
        public async Task Post_NobodyListening_IsAnHttpRequestExceptionNamingTheEndpoint()
        {
            int port;
            using (var server = new ScriptedHttpServer((connection, request) => Ok))
                port = server.Url.Port;
            using var transport = new SocketTransport(new Uri($"http://127.0.0.1:{port}/"));
            var ex = await Assert.ThrowsExactlyAsync<HttpRequestException>(() => PostAsync(transport, "x"));
            StringAssert.Contains(ex.Message, "could not connect to 127.0.0.1:" + port);
        }

        [TestMethod]
        public async Task Post_OverTls_WithTheServersCertificateTrusted_Works_AndWithTheSystemsValidation_IsRefused()
        {
            using var certificate = ScriptedHttpServer.CreateCertificate();
            using var server = new ScriptedHttpServer((connection, request) => Ok, certificate);
            using (var trusting = new SocketTransport(server.Url, TrustOnly(certificate)))
            {
                Assert.AreEqual(200, (await PostAsync(trusting, "secret")).Status);
                Assert.AreEqual(200, (await PostAsync(trusting, "secret")).Status);
                Assert.AreEqual(1, trusting.ConnectionsOpened);
            }
            Assert.AreEqual(2, server.RequestBodies.Count);

            using var validating = new SocketTransport(server.Url);
            var ex = await Assert.ThrowsExactlyAsync<HttpRequestException>(() => PostAsync(validating, "never sent"));
            StringAssert.Contains(ex.Message, "TLS connection could not be established");
            Assert.AreEqual(2, server.RequestBodies.Count, "nothing sent over an untrusted connection");
        }

        [TestMethod]
        public async Task FirehoseClient_OverTlsToTheStandIn_SignedCallsAreAccepted()
        {
            using var certificate = ScriptedHttpServer.CreateCertificate();
            await using var standIn = await FirehoseStandIn.StartAsync(certificate: certificate);
            standIn.CreateStream("app-logs");
            Assert.AreEqual("https", standIn.Url.Scheme);
            var endpoint = new FirehoseEndpoint(standIn.Url, "us-east-1", isConfigured: true);
            var transport = new SocketTransport(standIn.Url, TrustOnly(certificate));
            using var client = new FirehoseHttpClient(endpoint, new Amazon.Runtime.BasicAWSCredentials(FirehoseStandIn.DefaultAccessKey, FirehoseStandIn.DefaultSecretKey),
                TimeSpan.FromSeconds(30), "fh", transport);
            var records = Enumerable.Range(0, 3).Select(i => new NLog.Targets.Firehose.Internal.Buffering.BufferedRecord("app-logs", Encoding.UTF8.GetBytes("event " + i + "\n"), 2, i)).ToList();
            var result = await client.PutRecordBatchAsync("app-logs", records, CancellationToken.None);
            Assert.AreEqual(0, result.FailedPutCount);
            Assert.AreEqual(0, standIn.Violations.Count, string.Join("; ", standIn.Violations));
            CollectionAssert.AreEqual(new[] { "event 0\n", "event 1\n", "event 2\n" }, standIn.Records("app-logs").Select(r => Encoding.UTF8.GetString(r)).ToArray());
        }

        [TestMethod]
        public void Transport_OurOwnWithoutAProxy_HttpClientWhenAskedOrWithAProxyOrAHandler()
        {
            var uri = new Uri("https://firehose.eu-west-1.amazonaws.com/");
            using var capture = new InternalLogCapture(LogLevel.Debug);
            using (var own = FirehoseHttpClient.CreateTransport(uri, "fh", handler: null, proxy: null))
                Assert.IsInstanceOfType<SocketTransport>(own, "no proxy in this test process's environment");
            StringAssert.Contains(capture.Text, "fh: calls go over the target's own HTTP/1.1 connections");
            using (var asked = FirehoseHttpClient.CreateTransport(uri, "fh", handler: null, proxy: null, useHttpClient: true))
                Assert.IsInstanceOfType<HttpClientTransport>(asked);
            StringAssert.Contains(capture.Text, "fh: calls go through HttpClient (useHttpClient)");
            TransportChecks.AProxyOrAHandler_MeansHttpClient(uri);
        }
    }
}
