using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Which credentials sign the calls, checked by the stand-in's SigV4 verifier.</summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class FirehoseCredentialsTests
    {
        public TestContext TestContext { get; set; } = null!;

        [TestMethod]
        public async Task Profile_CredentialsFromProfileSignTheCalls()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.AddCredentials("AKIAPROFILE000000001", "profile-secret-key");
            string file = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "credentials-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(file, "[logging]\naws_access_key_id = AKIAPROFILE000000001\naws_secret_access_key = profile-secret-key\n");
            var target = StandInHarness.Target(standIn);
            target.Profile = "logging";
            target.ProfilesLocation = file;
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Profile").Info("event {Seq}", 0);
                factory.Flush();
            }

            Assert.AreEqual("AKIAPROFILE000000001", standIn.Calls.Single().AccessKey);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        [TestMethod]
        public async Task DefaultChain_CredentialsRotated_NextCallSignedWithNewOnes()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            standIn.AddCredentials("AKIAROTATED000000002", "rotated-secret");
            var target = StandInHarness.Target(standIn);
            string? previousKey = Environment.GetEnvironmentVariable("AWS_ACCESS_KEY_ID");
            string? previousSecret = Environment.GetEnvironmentVariable("AWS_SECRET_ACCESS_KEY");
            try
            {
                using var factory = Harness.Factory(target);
                factory.GetLogger("Rotate").Info("event {Seq}", 0);
                factory.Flush();
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", "AKIAROTATED000000002");
                Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", "rotated-secret");
                factory.GetLogger("Rotate").Info("event {Seq}", 1);
                factory.Flush();
            }
            finally
            {
                Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", previousKey);
                Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", previousSecret);
            }

            CollectionAssert.AreEqual(new[] { FirehoseStandIn.DefaultAccessKey, "AKIAROTATED000000002" }, standIn.Calls.Select(c => c.AccessKey).ToArray());
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        [TestMethod]
        public async Task DefaultChain_SessionToken_SentAndSigned()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            try
            {
                Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", "session-token-value");
                using var factory = Harness.Factory(target);
                factory.GetLogger("Token").Info("event {Seq}", 0);
                factory.Flush();
            }
            finally
            {
                Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
            }

            Assert.AreEqual("session-token-value", standIn.Calls.Single().SessionToken);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        [TestMethod]
        public async Task AuthenticationRegion_SignsWithThatRegion()
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var target = StandInHarness.Target(standIn);
            target.AuthenticationRegion = "eu-west-1";
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Region").Info("event {Seq}", 0);
                factory.Flush();
            }

            Assert.AreEqual("eu-west-1", target.Endpoint!.SigningRegion);
            Assert.AreEqual(1, standIn.Records("app-logs").Count);
            CollectionAssert.AreEqual(new[] { "eu-west-1" }, standIn.SigningRegions.ToArray(), "signed for eu-west-1, sent to the us-east-1 endpoint");
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }
    }
}
