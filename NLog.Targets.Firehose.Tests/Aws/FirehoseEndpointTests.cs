using System;
using System.Collections.Generic;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class FirehoseEndpointTests
    {
        private static FirehoseEndpoint Resolve(string? serviceUrl = null, string? region = null, string? profileRegion = null, bool fips = false,
            Dictionary<string, string>? env = null, string? fallback = null)
        {
            env ??= new Dictionary<string, string>();
            return FirehoseEndpoint.Resolve(serviceUrl, region, profileRegion, fips, name => env.TryGetValue(name, out var v) ? v : null, () => fallback);
        }

        [TestMethod]
        [DataRow("eu-west-1", "https://firehose.eu-west-1.amazonaws.com/")]
        [DataRow("cn-north-1", "https://firehose.cn-north-1.amazonaws.com.cn/")]
        [DataRow("us-gov-west-1", "https://firehose.us-gov-west-1.amazonaws.com/")]
        public void Resolve_Region_PartitionEndpoint(string region, string expected)
        {
            var endpoint = Resolve(region: region);
            Assert.AreEqual(new Uri(expected), endpoint.ServiceUri);
            Assert.AreEqual(region, endpoint.SigningRegion);
            Assert.IsFalse(endpoint.IsConfigured);
        }

        [TestMethod]
        public void Resolve_Fips_FipsHost()
        {
            Assert.AreEqual(new Uri("https://firehose-fips.us-east-2.amazonaws.com/"), Resolve(region: "us-east-2", fips: true).ServiceUri);
        }

        [TestMethod]
        public void Resolve_RegionPrecedence_OptionThenProfileThenAwsRegionThenDefaultRegionThenFallback()
        {
            var env = new Dictionary<string, string> { ["AWS_REGION"] = "us-west-1", ["AWS_DEFAULT_REGION"] = "us-west-2" };
            Assert.AreEqual("eu-north-1", Resolve(region: "eu-north-1", profileRegion: "ap-south-1", env: env).SigningRegion);
            Assert.AreEqual("ap-south-1", Resolve(profileRegion: "ap-south-1", env: env).SigningRegion);
            Assert.AreEqual("us-west-1", Resolve(env: env).SigningRegion);
            Assert.AreEqual("us-west-2", Resolve(env: new Dictionary<string, string> { ["AWS_DEFAULT_REGION"] = "us-west-2" }).SigningRegion);
            Assert.AreEqual("sa-east-1", Resolve(fallback: "sa-east-1").SigningRegion);
        }

        [TestMethod]
        public void Resolve_EndpointPrecedence_ServiceUrlThenFirehoseVariableThenGlobalVariable()
        {
            var env = new Dictionary<string, string> { ["AWS_ENDPOINT_URL_FIREHOSE"] = "http://127.0.0.1:1/", ["AWS_ENDPOINT_URL"] = "http://127.0.0.1:2/" };
            Assert.AreEqual(new Uri("http://127.0.0.1:3/"), Resolve("http://127.0.0.1:3/", region: "us-east-1", env: env).ServiceUri);
            Assert.AreEqual(new Uri("http://127.0.0.1:1/"), Resolve(region: "us-east-1", env: env).ServiceUri);
            env.Remove("AWS_ENDPOINT_URL_FIREHOSE");
            Assert.AreEqual(new Uri("http://127.0.0.1:2/"), Resolve(region: "us-east-1", env: env).ServiceUri);
            env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
            Assert.AreEqual(new Uri("https://firehose.us-east-1.amazonaws.com/"), Resolve(region: "us-east-1", env: env).ServiceUri);
        }

        [TestMethod]
        public void Resolve_EndpointWithoutRegion_SigningRegionFromHostOrUsEast1()
        {
            Assert.AreEqual("eu-central-1", Resolve("https://firehose.eu-central-1.amazonaws.com").SigningRegion);
            Assert.AreEqual("us-east-1", Resolve("http://localhost:4566").SigningRegion);
        }

        [TestMethod]
        public void Resolve_NoRegionNoEndpoint_ConfigurationErrorNamesRegion()
        {
            var ex = Assert.ThrowsExactly<NLogConfigurationException>(() => Resolve());
            StringAssert.Contains(ex.Message, "region");
        }

        [TestMethod]
        [DataRow("not a url")]
        [DataRow("ftp://example.com/")]
        [DataRow("/relative")]
        public void Resolve_BadServiceUrl_ConfigurationErrorNamesServiceUrl(string url)
        {
            var ex = Assert.ThrowsExactly<NLogConfigurationException>(() => Resolve(url, region: "us-east-1"));
            StringAssert.Contains(ex.Message, "serviceUrl");
        }
    }
}
