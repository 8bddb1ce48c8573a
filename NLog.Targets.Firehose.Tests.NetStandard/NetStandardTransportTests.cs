using System;
using System.Reflection;
using System.Runtime.Versioning;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Common;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Aws.Transport;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// This project runs the library's netstandard2.0 assembly, which has no transport of its own: every call goes through
    /// HttpClient, and says so.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class NetStandardTransportTests
    {
        [TestMethod]
        public void TheLibraryUnderTest_IsItsNetStandard20Assembly()
        {
            var framework = typeof(FirehoseTarget).Assembly.GetCustomAttribute<TargetFrameworkAttribute>();
            Assert.AreEqual(".NETStandard,Version=v2.0", framework?.FrameworkName, "the tests here must run the netstandard2.0 build");
        }

        [TestMethod]
        public void Transport_IsHttpClient_WithOrWithoutAProxyOrAHandler()
        {
            var uri = new Uri("https://firehose.eu-west-1.amazonaws.com/");
            using var capture = new InternalLogCapture(LogLevel.Debug);
            using (var plain = FirehoseHttpClient.CreateTransport(uri, "fh", handler: null, proxy: null))
                Assert.IsInstanceOfType<HttpClientTransport>(plain);
            StringAssert.Contains(capture.Text, "fh: calls go through HttpClient (netstandard2.0)");
            TransportChecks.AProxyOrAHandler_MeansHttpClient(uri);
        }
    }
}
