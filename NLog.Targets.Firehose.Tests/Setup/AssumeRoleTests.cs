using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// roleArn and web identity, with the stand-in as STS (<c>AWS_ENDPOINT_URL_STS</c>): it checks who signed AssumeRole
    /// and that the Firehose calls are signed with the temporary credentials it issued, session token included.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Http)]
    public class AssumeRoleTests
    {
        private const string Role = "arn:aws:iam::123456789012:role/log-writer";
        private readonly Dictionary<string, string?> _saved = new Dictionary<string, string?>();

        public TestContext TestContext { get; set; } = null!;

        private void SetEnvironment(string name, string? value)
        {
            if (!_saved.ContainsKey(name))
                _saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        [TestCleanup]
        public void RestoreEnvironment()
        {
            foreach (var pair in _saved)
                Environment.SetEnvironmentVariable(pair.Key, pair.Value);
            _saved.Clear();
        }

        private async Task<FirehoseStandIn> StartStandInAsStsAsync()
        {
            var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            SetEnvironment("AWS_ENDPOINT_URL_STS", standIn.Url.ToString());
            return standIn;
        }

        [TestMethod]
        public async Task RoleArn_CallsSignedWithTheAssumedRole_AssumedOnceForManyCalls()
        {
            await using var standIn = await StartStandInAsStsAsync();
            var target = StandInHarness.Target(standIn);
            target.RoleArn = Role;
            target.ExternalId = "ext-42";
            target.RoleSessionName = "orders-api";
            using var log = new InternalLogCapture(LogLevel.Trace);
            using (var factory = Harness.Factory(target))
            {
                for (int call = 0; call < 3; call++)
                {
                    factory.GetLogger("Role").Info("event {Seq}", call);
                    factory.Flush();
                }
            }

            var sts = standIn.StsCalls.Single();
            Assert.AreEqual("AssumeRole", sts.Action);
            Assert.AreEqual(Role, sts.RoleArn);
            Assert.AreEqual("ext-42", sts.ExternalId);
            Assert.AreEqual("orders-api", sts.RoleSessionName);
            Assert.AreEqual(FirehoseStandIn.DefaultAccessKey, sts.SignedBy, "the default chain's credentials assume the role");
            Assert.AreEqual(3, standIn.Calls.Count);
            Assert.IsTrue(standIn.Calls.All(c => c.AccessKey == sts.IssuedAccessKey && c.SessionToken != null), string.Join(", ", standIn.Calls.Select(c => c.AccessKey)));
            Assert.AreEqual(3, standIn.Records("app-logs").Count);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
            // The InternalLogger ran at Trace: neither what STS issued nor the key that assumed the role shows.
            StringAssert.Contains(log.Text, Role, "the internal log was captured");
            foreach (string secret in new[] { "issued/secret/", "IQoJb3JpZ2luX2VjEStandIn", FirehoseStandIn.DefaultSecretKey, "Signature=" })
                Assert.IsFalse(log.Text.Contains(secret, StringComparison.Ordinal), $"'{secret}' appeared in the internal log");
        }

        [TestMethod]
        public async Task RoleArn_DefaultSessionName_AndProfileAsSource()
        {
            await using var standIn = await StartStandInAsStsAsync();
            standIn.AddCredentials("AKIAPROFILE000000009", "profile-secret-9");
            string file = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "credentials-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(file, "[deploy]\naws_access_key_id = AKIAPROFILE000000009\naws_secret_access_key = profile-secret-9\n");
            var target = StandInHarness.Target(standIn);
            target.RoleArn = Role;
            target.Profile = "deploy";
            target.ProfilesLocation = file;
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Role").Info("event");
                factory.Flush();
            }

            var sts = standIn.StsCalls.Single();
            Assert.AreEqual("AKIAPROFILE000000009", sts.SignedBy);
            Assert.AreEqual("NLog.Targets.Firehose", sts.RoleSessionName);
            Assert.IsNull(sts.ExternalId);
            Assert.AreEqual(sts.IssuedAccessKey, standIn.Calls.Single().AccessKey);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        [TestMethod]
        public async Task RefreshingCredentials_ExpireBetweenCalls_EachCallSignedWithTheSetCurrentWhenItIsSent()
        {
            // What the target owns: credentials are resolved for every call, and a set that expired is renewed before it
            // signs. The clock is the test's (the set is expired on purpose), not the AWS SDK's renewal window, which renews
            // in the background with a race of its own (the old test expected 4 distinct keys and saw 3 on a busy machine).
            await using var standIn = await FirehoseStandIn.StartAsync();
            standIn.CreateStream("app-logs");
            var credentials = new ScriptedCredentials(standIn);
            var target = StandInHarness.Target(standIn);
            target.Seams.ClientFactory = endpoint => new FirehoseHttpClient(endpoint, credentials, TimeSpan.FromSeconds(30), "fh");
            using (var factory = Harness.Factory(target))
            {
                for (int call = 0; call < 5; call++)
                {
                    if (call >= 2)
                        credentials.ExpireNow(); // calls 2, 3 and 4 each find the set they would use expired
                    factory.GetLogger("Role").Info("event {Seq}", call);
                    factory.Flush();
                }
            }

            var signing = standIn.Calls.Select(c => c.AccessKey).ToList();
            CollectionAssert.AreEqual(new[] { "ASIASCRIPTED00000001", "ASIASCRIPTED00000001", "ASIASCRIPTED00000002", "ASIASCRIPTED00000003", "ASIASCRIPTED00000004" },
                signing, "a valid set is reused; an expired one is renewed before the call is signed: " + string.Join(", ", signing));
            Assert.AreEqual(4, credentials.Issued);
            Assert.AreEqual(5, standIn.Records("app-logs").Count);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        /// <summary>Refreshing credentials (as an assumed role's are) whose expiry the test sets; each new set is one the stand-in accepts.</summary>
        private sealed class ScriptedCredentials : Amazon.Runtime.RefreshingAWSCredentials
        {
            private readonly FirehoseStandIn _standIn;
            private int _issued;

            public ScriptedCredentials(FirehoseStandIn standIn) => _standIn = standIn;

            public int Issued => Volatile.Read(ref _issued);

            /// <summary>The set in use expired a minute ago: the next use must renew it first.</summary>
            public void ExpireNow()
            {
                var state = currentState;
                if (state != null)
                    state.Expiration = DateTime.UtcNow.AddMinutes(-1);
            }

            protected override CredentialsRefreshState GenerateNewCredentials()
            {
                int n = Interlocked.Increment(ref _issued);
                string key = $"ASIASCRIPTED{n:D8}";
                string secret = $"scripted/secret/{n:D8}";
                _standIn.AddCredentials(key, secret);
                return new CredentialsRefreshState(new Amazon.Runtime.ImmutableCredentials(key, secret, token: null), DateTime.UtcNow.AddHours(1));
            }
        }

        [TestMethod]
        public async Task RoleArn_AccessDenied_ReportedWithTheRole_EventsKept_ApplicationNotBlocked()
        {
            await using var standIn = await StartStandInAsStsAsync();
            standIn.DenyRole(Role);
            var target = StandInHarness.Target(standIn);
            target.RoleArn = Role;
            using var log = new InternalLogCapture(LogLevel.Warn);
            using (var factory = Harness.Factory(target))
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < 100; i++)
                    factory.GetLogger("Role").Info("event {Seq}", i);
                Assert.IsTrue(clock.Elapsed < TimeSpan.FromSeconds(5), "logging waited for STS");
                Harness.FlushCompletes(factory, TimeSpan.FromSeconds(60)); // the stream is paused: the flush must not wait for it
                Assert.AreEqual(100, target.BufferSize.Records, "events are kept while the role cannot be assumed");
            }

            Assert.AreEqual(0, standIn.Calls.Count, "nothing reached Firehose unsigned or with other credentials");
            StringAssert.Contains(log.Text, "AccessDenied");
            StringAssert.Contains(log.Text, "CredentialsUnavailable");
        }

        [TestMethod]
        public async Task WebIdentity_ThroughTheDefaultChain_TokenFileAndRoleFromTheEnvironment()
        {
            await using var standIn = await StartStandInAsStsAsync();
            string tokenFile = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "token-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(tokenFile, "eyJhbGciOiJSUzI1NiJ9.standin.token");
            // As on EKS with IAM roles for service accounts: no keys, a projected token and a role.
            SetEnvironment("AWS_ACCESS_KEY_ID", null);
            SetEnvironment("AWS_SECRET_ACCESS_KEY", null);
            SetEnvironment("AWS_WEB_IDENTITY_TOKEN_FILE", tokenFile);
            SetEnvironment("AWS_ROLE_ARN", Role);
            SetEnvironment("AWS_ROLE_SESSION_NAME", "irsa-pod");
            var target = StandInHarness.Target(standIn);
            using (var factory = Harness.Factory(target))
            {
                factory.GetLogger("Irsa").Info("event");
                factory.Flush();
            }

            var sts = standIn.StsCalls.Single();
            Assert.AreEqual("AssumeRoleWithWebIdentity", sts.Action);
            Assert.AreEqual("eyJhbGciOiJSUzI1NiJ9.standin.token", sts.WebIdentityToken);
            Assert.AreEqual(Role, sts.RoleArn);
            Assert.AreEqual(sts.IssuedAccessKey, standIn.Calls.Single().AccessKey);
            CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
        }

        [TestMethod]
        [DataRow("not-an-arn", null, null, "roleArn")]
        [DataRow("arn:aws:iam::123456789012:user/bob", null, null, "roleArn")]
        [DataRow(null, "ext-1", null, "need roleArn")]
        [DataRow(null, null, "name", "need roleArn")]
        [DataRow(Role, null, "has space", "roleSessionName")]
        public void RoleOptions_Invalid_ConfigurationError(string? roleArn, string? externalId, string? sessionName, string expected)
        {
            var target = new FirehoseTarget { Name = "fh", DeliveryStreamName = "app-logs", Region = "us-east-1" };
            if (roleArn != null)
                target.RoleArn = roleArn;
            if (externalId != null)
                target.ExternalId = externalId;
            if (sessionName != null)
                target.RoleSessionName = sessionName;
            using var factory = new LogFactory();
            factory.ThrowConfigExceptions = true;
            var config = new NLog.Config.LoggingConfiguration(factory);
            config.AddRuleForAllLevels(target);
            var ex = Assert.Throws<NLogConfigurationException>(() => factory.Configuration = config);
            StringAssert.Contains(ex.ToString(), expected);
        }
    }
}
