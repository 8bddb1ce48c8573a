using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// Each example runs as a user runs it (its own process, from its own output folder, against the local stand-in
    /// it starts) and reports success through its exit code and output.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    public class ExamplesTests
    {
        private static string Run(string example, out int exitCode)
        {
            string dll = Path.Combine(ProcessRunner.RepositoryRoot, "examples", example, "bin", ProcessRunner.Configuration, "net10.0", example + ".dll");
            Assert.IsTrue(File.Exists(dll), dll + " was not built");
            var unset = new[] { "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_FIREHOSE", "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY" };
            var (code, output) = ProcessRunner.Run("dotnet", new[] { dll }, Path.GetTempPath(), TimeSpan.FromMinutes(2), unset.Select(name => (name, (string?)null)));
            exitCode = code;
            return output;
        }

        [TestMethod]
        public void QuickStart_DeliversEveryEvent()
        {
            string output = Run("QuickStart", out int exitCode);
            Assert.AreEqual(0, exitCode, output);
            StringAssert.Contains(output, "the stand-in received 5000 records", output);
        }

        [TestMethod]
        public void Programmatic_LoggingConfigurationInCode_Delivers()
        {
            string output = Run("Programmatic", out int exitCode);
            Assert.AreEqual(0, exitCode, output);
            StringAssert.Contains(output, "the stand-in received 300 records", output);
        }

        [TestMethod]
        public void Lambda_EachInvocationDeliveredWhenItsHandlerReturns()
        {
            string output = Run("Lambda", out int exitCode);
            Assert.AreEqual(0, exitCode, output);
            StringAssert.Contains(output, "Invocation 1: returned {\"processed\":100}; 100 records at the stand-in when the handler returned", output);
            StringAssert.Contains(output, "Invocation 2: returned {\"processed\":100}; 200 records", output);
            StringAssert.Contains(output, "Invocation 3: returned {\"processed\":100}; 300 records", output);
        }

        [TestMethod]
        public void WorkerService_TemplatePropertiesAndScopesArriveAsJsonFields_HostShutdownDeliversTheTail()
        {
            string output = Run("WorkerService", out int exitCode);

            Assert.AreEqual(0, exitCode, output);
            StringAssert.Contains(output, "the stand-in received 5001 of them", output);
            string sample = output.Split('\n').Last(l => l.TrimStart().StartsWith("{", StringComparison.Ordinal));
            var record = JsonDocument.Parse(sample).RootElement;
            Assert.AreEqual("orders-1", record.GetProperty("Worker").GetString(), "BeginScope(dictionary) value");
            StringAssert.StartsWith(record.GetProperty("BatchId").GetString(), "b-", "BeginScope(template) value");
            Assert.AreEqual(JsonValueKind.Number, record.GetProperty("OrderId").ValueKind, "template property, typed");
            Assert.AreEqual(JsonValueKind.Number, record.GetProperty("Amount").ValueKind);
            Assert.AreEqual("OrderWorker", record.GetProperty("logger").GetString());
        }
    }
}
