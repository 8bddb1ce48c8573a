using System;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Credentials, session tokens and signatures never show up in diagnostics; TLS validation cannot be turned off.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public sealed class SecurityTests
    {
        private const string SessionToken = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0000000000";

        [TestMethod]
        public async Task TraceLevelInternalLog_ThroughFaultsSkewAndRefusedCredentials_HoldsNoSecretTokenOrSignature()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            StandInHarness.InjectFaultMix(standIn);
            standIn.Faults.InternalErrorRate = 0.05;
            standIn.Faults.ClockOffset = TimeSpan.FromMinutes(20); // signature rejected once, then re-signed
            var target = StandInHarness.Target(standIn);
            string text;
            string? previousToken = Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN");
            string? previousKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
            try
            {
                Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", SessionToken);
                using var capture = new InternalLogCapture(LogLevel.Trace);
                using (var factory = Harness.Factory(target))
                {
                    var logger = factory.GetLogger("Secure");
                    for (int i = 0; i < 2000; i++)
                        logger.Info("event {Seq}", i);
                    factory.Flush();
                    Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN000000000"); // refused from now on
                    logger.Info("refused {Seq}", 2000);
                    factory.Flush();
                }
                text = capture.Text;
            }
            finally
            {
                Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", previousToken);
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", previousKey);
            }

            Assert.IsTrue(text.Length > 1000, "the run was logged at Trace level");
            StringAssert.Contains(text, "UnrecognizedClientException");
            foreach (string secret in new[] { FirehoseStandIn.DefaultSecretKey, SessionToken, "Signature=", "X-Amz-Security-Token", "Authorization" })
                Assert.IsFalse(text.Contains(secret, StringComparison.OrdinalIgnoreCase), $"'{secret}' appeared in the internal log");
            Assert.IsTrue(standIn.Calls.Any(c => c.SessionToken == SessionToken), "the token was in use");
            foreach (string secret in new[] { FirehoseStandIn.DefaultSecretKey, SessionToken })
                Assert.IsFalse(target.ToString().Contains(secret, StringComparison.Ordinal));
        }

        [TestMethod]
        public void PublicOptions_NoneTurnsOffCertificateValidation()
        {
            var names = typeof(FirehoseTarget).GetProperties().Select(p => p.Name).ToList();
            foreach (string forbidden in new[] { "Certificate", "Tls", "Ssl", "Insecure", "Validat", "Verify", "SecretKey", "AccessKey" })
                Assert.IsFalse(names.Any(n => n.Contains(forbidden, StringComparison.OrdinalIgnoreCase)), $"an option named like '{forbidden}': {string.Join(", ", names)}");
        }
    }
}
