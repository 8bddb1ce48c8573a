using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class ProxyTests
    {
        [TestMethod]
        public async Task ProxyUrl_WithCredentials_CallsGoThroughItAuthenticatedAndThePasswordIsNeverLogged()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            using var proxy = new RecordingProxy(requireCredentials: true);
            var target = StandInHarness.Target(standIn);
            // The password comes from the environment: NLog traces the layout's text, never the rendered secret.
            Environment.SetEnvironmentVariable("FH_TEST_PROXY_PASSWORD", "s3cret%21");
            target.ProxyUrl = "http://logger:${environment:FH_TEST_PROXY_PASSWORD}@127.0.0.1:" + proxy.Url.Port;
            using var capture = new InternalLogCapture(LogLevel.Trace);
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Proxy").Info("through the proxy");
                Assert.IsTrue(System.Threading.SpinWait.SpinUntil(() => proxy.Requests.Count >= 2, TimeSpan.FromSeconds(30)), "the proxy saw the call");
            }

            var requests = proxy.Requests.ToArray();
            StringAssert.StartsWith(requests[0].RequestLine, $"POST {standIn.Url}");
            Assert.AreEqual(string.Empty, requests[0].ProxyAuthorization, "first without credentials");
            Assert.AreEqual("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("logger:s3cret!")), requests[1].ProxyAuthorization, "then with them, after the 407");
            Assert.AreEqual(0, standIn.Requests, "nothing reached the stand-in directly");
            Assert.IsFalse(capture.Text.Contains("s3cret", StringComparison.Ordinal), "the proxy password is not logged: " + string.Join(" | ", capture.Text.Split('\n').Where(l => l.Contains("s3cret", StringComparison.Ordinal))));
            StringAssert.Contains(capture.Text, "through the proxy http://127.0.0.1:");
        }

        [TestMethod]
        public async Task ProxyBypass_MatchingHost_GoesDirect()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using var proxy = new RecordingProxy(requireCredentials: false);
            var target = StandInHarness.Target(standIn);
            target.ProxyUrl = proxy.Url.ToString();
            target.ProxyBypass = "example.internal, 127.0.0.*";
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Proxy").Info("event {Seq}", 0);
                factory.Flush();
            }

            Assert.AreEqual(1, standIn.Records("app-logs").Count);
            Assert.IsTrue(proxy.Requests.IsEmpty);
        }

        [TestMethod]
        public void ProxyUrl_NotHttp_ConfigurationErrorNamesTheOption()
        {
            var target = new FirehoseTarget { Name = "fh", DeliveryStreamName = "s", Region = "us-east-1", ProxyUrl = "socks5://proxy:1080" };
            using var factory = new LogFactory { ThrowConfigExceptions = true };
            var ex = Assert.Throws<Exception>(() => factory.Setup().LoadConfiguration(c => c.ForLogger().WriteTo(target)));
            StringAssert.Contains(ex.ToString(), "proxyUrl");
        }
    }
}
