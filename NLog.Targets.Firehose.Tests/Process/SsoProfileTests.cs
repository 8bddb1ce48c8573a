using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// An IAM Identity Center (SSO) profile after <c>aws sso login</c>: the AWS SDK reads the cached access token and
    /// gets role credentials from the portal (here the stand-in, <c>AWS_ENDPOINT_URL_SSO</c>). Run in a child process
    /// with a home directory of its own, so the real ~/.aws is never read.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    public class SsoProfileTests
    {
        [TestMethod]
        [DataRow(false, DisplayName = "AWS_PROFILE through the default chain")]
        [DataRow(true, DisplayName = "the profile option")]
        public async Task SsoProfile_CachedLogin_RoleCredentialsSignTheCalls(bool profileOption)
        {
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            using var home = new TempDirectory("nlog-firehose-sso-home-");
            string aws = Path.Combine(home.Path, ".aws");
            Directory.CreateDirectory(Path.Combine(aws, "sso", "cache"));
            File.WriteAllText(Path.Combine(aws, "config"), @"[profile dev-sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = LogWriter
region = us-east-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
");
            File.WriteAllText(Path.Combine(aws, "credentials"), string.Empty);
            // What `aws sso login --sso-session corp` caches: the file is named after the SHA-1 of the session name.
            string cacheName = Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes("corp"))).ToLowerInvariant() + ".json";
            File.WriteAllText(Path.Combine(aws, "sso", "cache", cacheName),
                $@"{{""startUrl"":""https://corp.awsapps.com/start"",""region"":""us-east-1"",""accessToken"":""{standIn.SsoAccessToken}"",""expiresAt"":""{DateTime.UtcNow.AddHours(8):yyyy-MM-ddTHH:mm:ssZ}""}}");
            string config = Path.Combine(home.Path, "nlog.config");
            File.WriteAllText(config, $@"<?xml version=""1.0"" encoding=""utf-8""?>
<nlog xmlns=""http://www.nlog-project.org/schemas/NLog.xsd"" xmlns:xsi=""http://www.w3.org/2001/XMLSchema-instance"" throwConfigExceptions=""true""
      internalLogLevel=""Trace"" internalLogToConsole=""true"">
  <extensions><add assembly=""NLog.Targets.Firehose"" /></extensions>
  <targets>
    <target xsi:type=""KinesisFirehose"" name=""firehose"" deliveryStreamName=""app-logs"" serviceUrl=""{standIn.Url}""{(profileOption ? @" profile=""dev-sso""" : string.Empty)} />
  </targets>
  <rules><logger name=""*"" minlevel=""Info"" writeTo=""firehose"" /></rules>
</nlog>");

            string childOutput;
            using (var child = ChildProcess.Start(config, 10, 0,
                ("HOME", home.Path), ("USERPROFILE", home.Path),
                ("AWS_CONFIG_FILE", Path.Combine(aws, "config")), ("AWS_SHARED_CREDENTIALS_FILE", Path.Combine(aws, "credentials")),
                ("AWS_PROFILE", profileOption ? null : "dev-sso"), ("AWS_REGION", null),
                ("AWS_ACCESS_KEY_ID", null), ("AWS_SECRET_ACCESS_KEY", null), ("AWS_SESSION_TOKEN", null),
                ("AWS_ENDPOINT_URL_SSO", standIn.Url.ToString()), ("AWS_ENDPOINT_URL", null), ("AWS_ENDPOINT_URL_FIREHOSE", null)))
            {
                child.WaitForOutput("LOGGED 10");
                bool delivered = SpinWait.SpinUntil(() => standIn.Records("app-logs").Count == 10, TimeSpan.FromSeconds(30));
                Assert.IsTrue(delivered, $"{standIn.Records("app-logs").Count} of 10 delivered; SSO calls {standIn.SsoCalls.Count}; child said: {child.Output}");
                childOutput = child.Output;
            }

            // The child's InternalLogger ran at Trace: none of what IAM Identity Center issued, nor the login's token, shows.
            string output = childOutput;
            StringAssert.Contains(output, "NLog.Targets.Firehose", "the internal log was captured");
            foreach (string secret in new[] { "issued/secret/", "IQoJb3JpZ2luX2VjEStandIn", standIn.SsoAccessToken, "Signature=" })
                Assert.IsFalse(output.Contains(secret, StringComparison.Ordinal), $"'{secret}' appeared in the internal log");

            var sso = standIn.SsoCalls.First();
            Assert.AreEqual("123456789012", sso.AccountId);
            Assert.AreEqual("LogWriter", sso.RoleName);
            Assert.IsTrue(standIn.Calls.All(c => c.AccessKey == sso.IssuedAccessKey), string.Join(", ", standIn.Calls.Select(c => c.AccessKey)));
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }
    }
}
