using System;
using System.Net.Http;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Aws.Transport;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>What both of the library's assemblies do alike when choosing a transport.</summary>
    internal static class TransportChecks
    {
        /// <summary>With a proxy or a given handler, calls go through HttpClient (which knows proxies and handlers).</summary>
        public static void AProxyOrAHandler_MeansHttpClient(Uri uri)
        {
            using (var proxied = FirehoseHttpClient.CreateTransport(uri, "fh", handler: null, proxy: new System.Net.WebProxy("http://127.0.0.1:3128")))
                Assert.IsInstanceOfType<HttpClientTransport>(proxied);
            using (var handled = FirehoseHttpClient.CreateTransport(uri, "fh", handler: new HttpClientHandler(), proxy: null))
                Assert.IsInstanceOfType<HttpClientTransport>(handled);
        }
    }
}
