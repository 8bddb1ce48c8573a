using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>nlog.config → target → moto's Firehose → S3 → read back and count.</summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    [TestCategory("EndToEnd")]
    public class MotoEndToEndTests
    {
        public TestContext TestContext { get; set; } = null!;

        [TestMethod]
        public void NlogConfigFile_50000Events_AllInS3AsNewlineDelimitedJson() => Run(gzip: false);

        /// <summary>
        /// <c>recordPacking</c> with <c>compression="GZip"</c>: the S3 objects moto writes (records concatenated) are
        /// multi-member gzip files; gunzipped, every event is there exactly once.
        /// </summary>
        [TestMethod]
        public void NlogConfigFile_GZipPackedRecords_S3ObjectsGunzipToEveryEventOnce() => Run(gzip: true);

        private void Run(bool gzip)
        {
            using var moto = MotoServer.Start();
            Assert.AreEqual("ACTIVE", moto.Helper("setup", moto.Url.ToString(), "logs", "app-logs"));

            string template = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "e2e.nlog.config"));
            string configPath = Path.Combine(Path.GetTempPath(), "nlog-e2e-" + Guid.NewGuid().ToString("N") + ".config");
            string config = template.Replace("__ENDPOINT__", moto.Url.ToString(), StringComparison.Ordinal);
            if (gzip)
                config = config.Replace("checkStreamAtStartup=\"true\"", "checkStreamAtStartup=\"true\" recordPacking=\"true\" compression=\"GZip\"", StringComparison.Ordinal);
            File.WriteAllText(configPath, config);
            const int total = 50_000;
            string? previousSts = Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_STS");
            Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_STS", moto.Url.ToString()); // roleArn is assumed through moto's STS
            using var log = new InternalLogCapture(LogLevel.Info);
            try
            {
                var factory = new LogFactory();
                factory.Setup().LoadConfigurationFromFile(configPath);
                var logger = factory.GetLogger("E2E.Orders");
                for (int i = 0; i < total; i++)
                    logger.Info("Order {Seq} shipped to {City}", i, "Zürich");
                factory.Shutdown();
            }
            finally
            {
                File.Delete(configPath);
                Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_STS", previousSts);
            }
            StringAssert.Contains(log.Text, "credentials from role arn:aws:iam::123456789012:role/log-writer", log.Text);
            StringAssert.Contains(log.Text, "delivery stream 'app-logs' (us-east-1) is ACTIVE and DirectPut", "the start-up check read moto's DescribeDeliveryStream");

            string dumpPath = Path.Combine(Path.GetTempPath(), "s3-dump-" + Guid.NewGuid().ToString("N"));
            try
            {
                int objects = int.Parse(moto.Helper("dump", moto.Url.ToString(), "logs", dumpPath), System.Globalization.CultureInfo.InvariantCulture);
                string content;
                if (gzip)
                {
                    byte[] raw = File.ReadAllBytes(dumpPath);
                    Assert.IsTrue(raw.Length > 2 && raw[0] == 0x1f && raw[1] == 0x8b, "the S3 objects are gzip");
                    using var input = new System.IO.Compression.GZipStream(new MemoryStream(raw), System.IO.Compression.CompressionMode.Decompress);
                    using var reader = new StreamReader(input, Encoding.UTF8);
                    content = reader.ReadToEnd();
                    TestContext.WriteLine($"{raw.Length} bytes in S3 for {Encoding.UTF8.GetByteCount(content)} bytes of events");
                }
                else
                {
                    content = File.ReadAllText(dumpPath, Encoding.UTF8);
                }
                Assert.IsTrue(content.EndsWith("\n", StringComparison.Ordinal), "every record ends with a newline");
                var lines = content.Split('\n');
                Assert.AreEqual(total, lines.Length - 1, "one line per event");
                var seen = new bool[total];
                foreach (var line in lines.Take(total))
                {
                    using var doc = JsonDocument.Parse(line);
                    var root = doc.RootElement;
                    int seq = root.GetProperty("Seq").GetInt32();
                    Assert.IsFalse(seen[seq], $"event {seq} arrived twice");
                    seen[seq] = true;
                    Assert.AreEqual("INFO", root.GetProperty("level").GetString());
                    Assert.AreEqual("E2E.Orders", root.GetProperty("logger").GetString());
                    Assert.AreEqual($"Order {seq} shipped to Zürich", root.GetProperty("message").GetString());
                    Assert.AreEqual("Zürich", root.GetProperty("City").GetString());
                    StringAssert.EndsWith(root.GetProperty("time").GetString(), "Z");
                }
                Assert.IsTrue(seen.All(s => s), "every event arrived");
                if (!gzip)
                    Assert.IsTrue(objects >= total / 500, $"moto writes one object per call; {objects} objects");
                TestContext.WriteLine($"{total} events in {objects} S3 objects");
            }
            finally
            {
                File.Delete(dumpPath);
            }
        }
    }
}
