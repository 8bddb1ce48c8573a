using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The standard proxy variables (HTTPS_PROXY, HTTP_PROXY, NO_PROXY). .NET reads them once per process, so each case
    /// runs in a child process of its own; a recording proxy on loopback sees what goes through it (and lets nothing out).
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    public class ProxyEnvironmentTests
    {
        public TestContext TestContext { get; set; } = null!;

        private string WriteConfig(string? serviceUrl)
        {
            string path = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "proxy-env-" + Guid.NewGuid().ToString("N") + ".config");
            File.WriteAllText(path, $@"<?xml version=""1.0"" encoding=""utf-8""?>
<nlog xmlns=""http://www.nlog-project.org/schemas/NLog.xsd"" xmlns:xsi=""http://www.w3.org/2001/XMLSchema-instance"" throwConfigExceptions=""true"">
  <extensions><add assembly=""NLog.Targets.Firehose"" /></extensions>
  <targets>
    <target xsi:type=""KinesisFirehose"" name=""firehose"" deliveryStreamName=""app-logs"" region=""us-east-1""{(serviceUrl is null ? string.Empty : $@" serviceUrl=""{serviceUrl}""")} />
  </targets>
  <rules><logger name=""*"" minlevel=""Info"" writeTo=""firehose"" /></rules>
</nlog>");
            return path;
        }

        private static (string, string?)[] Environment(params (string, string?)[] proxy) => new (string, string?)[]
        {
            ("HTTPS_PROXY", null), ("HTTP_PROXY", null), ("ALL_PROXY", null), ("NO_PROXY", null),
            ("https_proxy", null), ("http_proxy", null), ("all_proxy", null), ("no_proxy", null),
            ("AWS_ENDPOINT_URL", null), ("AWS_ENDPOINT_URL_FIREHOSE", null),
        }.Concat(proxy).ToArray();

        [TestMethod]
        public void HttpsProxy_RealEndpoint_GoesThroughTheProxy()
        {
            using var proxy = new RecordingProxy(requireCredentials: false);
            // The real regional endpoint (https): the proxy is asked to tunnel to it, refuses, and nothing leaves loopback.
            using (var child = ChildProcess.Start(WriteConfig(serviceUrl: null), 10, 0, Environment(("HTTPS_PROXY", proxy.Url.ToString()))))
            {
                child.WaitForOutput("LOGGED 10");
                bool seen = SpinWait.SpinUntil(() => !proxy.Requests.IsEmpty, TimeSpan.FromSeconds(30));
                Assert.IsTrue(seen, "the proxy saw nothing; child said: " + child.Output);
            }

            StringAssert.StartsWith(proxy.Requests.First().RequestLine, "CONNECT firehose.us-east-1.amazonaws.com:443 ");
        }

        [TestMethod]
        public async Task HttpProxy_PlainHttpEndpoint_GoesThroughTheProxy()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using var proxy = new RecordingProxy(requireCredentials: false);
            using (var child = ChildProcess.Start(WriteConfig(standIn.Url.ToString()), 10, 0, Environment(("HTTP_PROXY", proxy.Url.ToString()))))
            {
                child.WaitForOutput("LOGGED 10");
                bool seen = SpinWait.SpinUntil(() => !proxy.Requests.IsEmpty, TimeSpan.FromSeconds(30));
                Assert.IsTrue(seen, "the proxy saw nothing; child said: " + child.Output);
            }

            StringAssert.StartsWith(proxy.Requests.First().RequestLine, $"POST {standIn.Url} ");
            Assert.AreEqual(0, standIn.Requests, "nothing went around the proxy");
        }

        [TestMethod]
        public async Task NoProxy_ListedHost_GoesDirect()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using var proxy = new RecordingProxy(requireCredentials: false);
            using (var child = ChildProcess.Start(WriteConfig(standIn.Url.ToString()), 10, 0,
                Environment(("HTTP_PROXY", proxy.Url.ToString()), ("HTTPS_PROXY", proxy.Url.ToString()), ("NO_PROXY", "127.0.0.1"))))
            {
                child.WaitForOutput("LOGGED 10");
                bool delivered = SpinWait.SpinUntil(() => standIn.Records("app-logs").Count == 10, TimeSpan.FromSeconds(30));
                Assert.IsTrue(delivered, $"{standIn.Records("app-logs").Count} of 10 delivered; child said: {child.Output}");
            }

            Assert.AreEqual(0, proxy.Requests.Count, "NO_PROXY host went through the proxy");
        }
    }
}
