using System;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;

[assembly: DoNotParallelize]

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// Gives the whole run the stand-in's credentials through the AWS SDK's default chain (environment variables), and
    /// turns off the instance-metadata lookup so nothing ever leaves loopback.
    /// </summary>
    [TestClass]
    public static class TestSetup
    {
        [AssemblyInitialize]
        public static void Initialize(TestContext context)
        {
            Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", FirehoseStandIn.DefaultAccessKey);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", FirehoseStandIn.DefaultSecretKey);
            Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
            Environment.SetEnvironmentVariable("AWS_PROFILE", null);
            Environment.SetEnvironmentVariable("AWS_REGION", "us-east-1");
            Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL", null);
            Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_FIREHOSE", null);
        }
    }
}
