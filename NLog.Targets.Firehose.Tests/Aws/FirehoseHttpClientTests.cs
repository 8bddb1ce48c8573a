using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Amazon.Runtime;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The client over <see cref="HttpClient"/> with a handler that answers as the test says: how it corrects a skewed
    /// clock (the AWS SDK's rules), what it does with a refused key, and the cap on an answer's size.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class FirehoseHttpClientTests
    {
        private static readonly BasicAWSCredentials Keys = new BasicAWSCredentials("AKIDEXAMPLE", "secret");

        [TestMethod]
        [DataRow("InvalidSignatureException", 20.0, true, DisplayName = "possible skew, 20 min: corrected")]
        [DataRow("SignatureDoesNotMatch", -30.0, true, DisplayName = "possible skew, clock 30 min ahead: corrected")]
        [DataRow("AuthFailure", 6.0, true, DisplayName = "possible skew, 6 min: corrected")]
        [DataRow("SignatureDoesNotMatch", 1.0, false, DisplayName = "possible skew, 1 min: a wrong key, the clock kept")]
        [DataRow("InvalidSignatureException", 0.0, false, DisplayName = "possible skew, no difference: the clock kept")]
        [DataRow("RequestTimeTooSkewed", 2.0, true, DisplayName = "definite skew, 2 min: corrected")]
        public async Task RefusedSignature_CorrectedAsTheSdkDoes_OnlyBeyondFiveMinutesForCodesAWrongKeyAlsoGives(string code, double serverAheadMinutes, bool corrected)
        {
            var endpoint = UniqueEndpoint();
            var handler = new AnswerHandler((request, n) => n == 0 || !corrected
                ? Error(code, "The request signature we calculated does not match the signature you provided.", DateTime.UtcNow.AddMinutes(serverAheadMinutes))
                : Accepted(1));
            using var client = new FirehoseHttpClient(endpoint, Keys, TimeSpan.FromSeconds(30), "fh", handler);

            var call = client.PutRecordBatchAsync("s", OneRecord(), CancellationToken.None);

            if (corrected)
            {
                Assert.AreEqual(0, (await call).FailedPutCount);
                Assert.AreEqual(serverAheadMinutes, client.ClockOffset.TotalMinutes, 0.1);
                var signedAt = DateTime.ParseExact(handler.Requests[1].Headers.GetValues("X-Amz-Date").Single(), "yyyyMMdd'T'HHmmss'Z'",
                    CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
                Assert.AreEqual(serverAheadMinutes, (signedAt - DateTime.UtcNow).TotalMinutes, 0.1, "signed again with the server's time");
            }
            else
            {
                var error = await Assert.ThrowsExactlyAsync<FirehoseServiceException>(() => call);
                Assert.AreEqual(code, error.ErrorCode);
                Assert.AreEqual(TimeSpan.Zero, client.ClockOffset, "a refusal the clock cannot explain leaves the clock alone");
                Assert.AreEqual(2, handler.Requests.Count, "tried once more with the credentials resolved again, then given up");
            }
        }

        [TestMethod]
        public async Task ExpiredSignature_NoDateHeader_ServerTimeReadFromTheMessage()
        {
            var endpoint = UniqueEndpoint();
            var server = DateTime.UtcNow.AddMinutes(-42);
            string message = $"Signature expired: 20250101T000000Z is now earlier than {server.AddMinutes(-5):yyyyMMdd'T'HHmmss'Z'} ({server:yyyyMMdd'T'HHmmss'Z'} - 5 min.)";
            var handler = new AnswerHandler((request, n) => n == 0 ? Error("InvalidSignatureException", message, date: null) : Accepted(1));
            using var client = new FirehoseHttpClient(endpoint, Keys, TimeSpan.FromSeconds(30), "fh", handler);

            Assert.AreEqual(0, (await client.PutRecordBatchAsync("s", OneRecord(), CancellationToken.None)).FailedPutCount);

            Assert.AreEqual(-42, client.ClockOffset.TotalMinutes, 0.1);
        }

        [TestMethod]
        public async Task ClockCorrection_KeptPerEndpoint_ANewClientToTheSameEndpointStartsCorrected()
        {
            var endpoint = UniqueEndpoint();
            var handler = new AnswerHandler((request, n) => n == 0 ? Error("RequestTimeTooSkewed", "skewed", DateTime.UtcNow.AddMinutes(15)) : Accepted(1));
            using (var first = new FirehoseHttpClient(endpoint, Keys, TimeSpan.FromSeconds(30), "fh", handler))
                await first.PutRecordBatchAsync("s", OneRecord(), CancellationToken.None);

            using var again = new FirehoseHttpClient(endpoint, Keys, TimeSpan.FromSeconds(30), "fh", new AnswerHandler((_, _) => Accepted(1)));
            using var elsewhere = new FirehoseHttpClient(UniqueEndpoint(), Keys, TimeSpan.FromSeconds(30), "fh", new AnswerHandler((_, _) => Accepted(1)));

            Assert.AreEqual(15, again.ClockOffset.TotalMinutes, 0.1, "a reloaded configuration does not relearn the skew with a refused call");
            Assert.AreEqual(TimeSpan.Zero, elsewhere.ClockOffset);
        }

        [TestMethod]
        public async Task Answer_LargerThanTheCap_RefusedLikeALostAnswerNotBufferedWhole()
        {
            var endpoint = UniqueEndpoint();
            var handler = new AnswerHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("{\"FailedPutCount\":0,\"Padding\":\"" + new string('x', FirehoseHttpHandler.MaxResponseBytes) + "\"}"),
            });
            using var client = new FirehoseHttpClient(endpoint, Keys, TimeSpan.FromSeconds(30), "fh", handler);

            var error = await Assert.ThrowsExactlyAsync<HttpRequestException>(() => client.PutRecordBatchAsync("s", OneRecord(), CancellationToken.None));

            var records = new List<BufferedRecord>(OneRecord());
            var outcome = Internal.Delivery.CallOutcome.FromFailure(error, records, CancellationToken.None)!;
            Assert.IsFalse(outcome.Permanent);
            Assert.AreEqual(1, outcome.Retry?.Count, "retried, as when the answer was lost: which records were taken is unknown");
        }

        [TestMethod]
        public async Task CallMadeInsideTheApplicationsActivity_RunsWithoutIt_AndTheCallerKeepsIt()
        {
            using var application = new System.Diagnostics.Activity("GET /orders").Start();
            System.Diagnostics.Activity? seenByTheHandler = application;
            var handler = new AnswerHandler((_, _) =>
            {
                seenByTheHandler = System.Diagnostics.Activity.Current;
                return Accepted(1);
            });
            using var client = new FirehoseHttpClient(UniqueEndpoint(), Keys, TimeSpan.FromSeconds(30), "fh", handler);

            await client.PutRecordBatchAsync("s", OneRecord(), CancellationToken.None);

            Assert.IsNull(seenByTheHandler, "the call would be a span of the application's trace");
            Assert.AreSame(application, System.Diagnostics.Activity.Current, "the caller's activity is left as it was");
        }

        [TestMethod]
        public void DefaultHandler_LongLivedClientSettings()
        {
            using var created = FirehoseHttpHandler.CreateHandler(proxy: null, maxConnections: 8);
            if (!LibraryIsNet8Build())
            {
                var framework = (HttpClientHandler)created; // netstandard2.0: the handler it has
                Assert.IsFalse(framework.AllowAutoRedirect);
                Assert.IsFalse(framework.UseCookies);
                Assert.AreEqual(DecompressionMethods.None, framework.AutomaticDecompression);
                Assert.AreEqual(8, framework.MaxConnectionsPerServer);
                return;
            }
            var handler = (SocketsHttpHandler)created;
            Assert.IsFalse(handler.AllowAutoRedirect, "a redirect would carry a signature for another host");
            Assert.IsFalse(handler.UseCookies);
            Assert.AreEqual(DecompressionMethods.None, handler.AutomaticDecompression);
            Assert.AreEqual(8, handler.MaxConnectionsPerServer, "one connection per call in flight");
            Assert.AreEqual(TimeSpan.FromMinutes(5), handler.PooledConnectionLifetime, "DNS changes are picked up");
            Assert.IsTrue(handler.PooledConnectionIdleTimeout < TimeSpan.FromSeconds(60), "closed before AWS's load balancers close it");
            Assert.IsNull(handler.ActivityHeadersPropagator, "no trace headers of the application's");
            Assert.IsNull(handler.SslOptions.RemoteCertificateValidationCallback, "certificates validated as the platform does");
        }

        /// <summary>Whether the library under test is its net8.0 build (this file also runs against the netstandard2.0 one).</summary>
        internal static bool LibraryIsNet8Build() =>
            System.Reflection.CustomAttributeExtensions.GetCustomAttribute<System.Runtime.Versioning.TargetFrameworkAttribute>(typeof(FirehoseTarget).Assembly)
                ?.FrameworkName.StartsWith(".NETCoreApp", StringComparison.Ordinal) == true;

        private static FirehoseEndpoint UniqueEndpoint() =>
            new FirehoseEndpoint(new Uri($"https://firehose-{Guid.NewGuid():N}.example.com/"), "us-east-1", isConfigured: true);

        private static IReadOnlyList<BufferedRecord> OneRecord() => new[] { new BufferedRecord("s", Encoding.UTF8.GetBytes("{}\n"), 2, 0) };

        private static HttpResponseMessage Accepted(int records) => new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("{\"FailedPutCount\":0,\"RequestResponses\":["
                + string.Join(",", Enumerable.Range(0, records).Select(i => $"{{\"RecordId\":\"r{i}\"}}")) + "]}"),
        };

        private static HttpResponseMessage Error(string code, string message, DateTime? date)
        {
            var response = new HttpResponseMessage(HttpStatusCode.BadRequest)
            {
                Content = new StringContent($"{{\"__type\":\"{code}\",\"message\":\"{message}\"}}"),
            };
            if (date.HasValue)
                response.Headers.Date = new DateTimeOffset(date.Value, TimeSpan.Zero);
            return response;
        }

        /// <summary>Answers each request with the script's answer (given the request and its number from 0), and keeps the requests.</summary>
        private sealed class AnswerHandler : HttpMessageHandler
        {
            private readonly Func<HttpRequestMessage, int, HttpResponseMessage> _answer;
            private readonly ConcurrentQueue<HttpRequestMessage> _requests = new ConcurrentQueue<HttpRequestMessage>();

            public AnswerHandler(Func<HttpRequestMessage, int, HttpResponseMessage> answer) => _answer = answer;

            public List<HttpRequestMessage> Requests => _requests.ToList();

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                int n = _requests.Count;
                _requests.Enqueue(request);
                return Task.FromResult(_answer(request, n));
            }
        }
    }
}
