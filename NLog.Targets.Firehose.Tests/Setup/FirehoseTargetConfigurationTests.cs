using System;
using System.IO;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Layouts;
using NLog.Targets.Firehose.Tests.Support;
using NLog.Targets.Wrappers;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class FirehoseTargetConfigurationTests
    {
        public TestContext TestContext { get; set; } = null!;

        private static NLogConfigurationException InitializeExpectingError(FirehoseTarget target)
        {
            var factory = new LogFactory();
            factory.ThrowConfigExceptions = true;
            var ex = Assert.Throws<Exception>(() => factory.Setup().LoadConfiguration(c => c.ForLogger().WriteTo(target)));
            for (Exception? e = ex; e != null; e = e.InnerException)
            {
                if (e is NLogConfigurationException config && e.Message.Contains("KinesisFirehose", StringComparison.Ordinal) || e is NLogConfigurationException && e.InnerException is null)
                    return (NLogConfigurationException)e;
            }
            Assert.Fail("No NLogConfigurationException in " + ex);
            return null!;
        }

        private static FirehoseTarget Valid() => new FirehoseTarget { Name = "fh", DeliveryStreamName = "app-logs", Region = "us-east-1", Seams = { ClientFactory = _ => new RecordingClient().Client } };

        [TestMethod]
        public void Initialize_NoDeliveryStreamName_ErrorNamesOption()
        {
            var target = Valid();
            target.DeliveryStreamName = null;
            StringAssert.Contains(InitializeExpectingError(target).Message, "deliveryStreamName");
        }

        [TestMethod]
        public void Initialize_EmptyDeliveryStreamName_ErrorNamesOption()
        {
            var target = Valid();
            target.DeliveryStreamName = "  ";
            StringAssert.Contains(InitializeExpectingError(target).Message, "deliveryStreamName");
        }

        [TestMethod]
        public void Initialize_InvalidDeliveryStreamName_ErrorNamesOption()
        {
            var target = Valid();
            target.DeliveryStreamName = "has spaces";
            StringAssert.Contains(InitializeExpectingError(target).Message, "deliveryStreamName 'has spaces'");
        }

        [TestMethod]
        public void Initialize_NoRegionAnywhere_ErrorNamesRegion()
        {
            var target = Valid();
            target.Region = null;
            target.Seams.GetEnvironmentVariable = _ => null;
            target.Seams.SdkFallbackRegion = () => null;
            StringAssert.Contains(InitializeExpectingError(target).Message, "region");
        }

        [TestMethod]
        public void Initialize_BadServiceUrl_ErrorNamesServiceUrl()
        {
            var target = Valid();
            target.ServiceUrl = "localhost:4566";
            StringAssert.Contains(InitializeExpectingError(target).Message, "serviceUrl");
        }

        [TestMethod]
        [DataRow(501)]
        [DataRow(0)]
        public void Initialize_MaxRecordsPerCallOutside1To500_ErrorNamesIt(int records)
        {
            var target = Valid();
            target.MaxRecordsPerCall = records;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxRecordsPerCall");
        }

        [TestMethod]
        public void Initialize_BadRetrySettings_ErrorsNameOptions()
        {
            var target = Valid();
            target.RetryBackoffMilliseconds = 0;
            StringAssert.Contains(InitializeExpectingError(target).Message, "retryBackoffMilliseconds");

            target = Valid();
            target.RetryBackoffMaxMilliseconds = 10;
            StringAssert.Contains(InitializeExpectingError(target).Message, "retryBackoffMaxMilliseconds");

            target = Valid();
            target.RetryTimeLimitSeconds = -1;
            StringAssert.Contains(InitializeExpectingError(target).Message, "retryTimeLimitSeconds");

            target = Valid();
            target.MaxConcurrentRequests = 0;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxConcurrentRequests");

            target = Valid();
            target.MaxQueueBytes = 1000;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxQueueBytes");

            target = Valid();
            target.MaxPauseSeconds = 0;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxPauseSeconds");

            target = Valid();
            target.RequestTimeoutSeconds = 0;
            StringAssert.Contains(InitializeExpectingError(target).Message, "requestTimeoutSeconds");

            target = Valid();
            target.BufferFlushInterval = 1000; // milliseconds by mistake
            StringAssert.Contains(InitializeExpectingError(target).Message, "bufferFlushInterval is in seconds");

            target = Valid();
            target.RecordPacking = true;
            target.PackedRecordBytes = 100;
            StringAssert.Contains(InitializeExpectingError(target).Message, "packedRecordBytes");

            target = Valid();
            target.RecordPacking = true;
            target.AppendNewLine = false;
            StringAssert.Contains(InitializeExpectingError(target).Message, "recordPacking needs appendNewLine");

            target = Valid();
            target.MaxRecordsPerSecond = -1;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxRecordsPerSecond must not be negative");

            target = Valid();
            target.MaxBytesPerSecond = -1;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxBytesPerSecond must not be negative");

            target = Valid();
            target.Compression = RecordCompression.GZip; // without recordPacking
            StringAssert.Contains(InitializeExpectingError(target).Message, "compression=\"GZip\" needs recordPacking=\"true\"");

            target = Valid();
            target.RecordPacking = true;
            target.Compression = (RecordCompression)7;
            StringAssert.Contains(InitializeExpectingError(target).Message, "compression must be None or GZip");

            target = Valid();
            target.LingerMilliseconds = -1;
            StringAssert.Contains(InitializeExpectingError(target).Message, "lingerMilliseconds");

            target = Valid();
            target.MaxBufferBytes = 1024;
            StringAssert.Contains(InitializeExpectingError(target).Message, "maxBufferBytes");
        }

        [TestMethod]
        public void Initialize_UnknownProfile_ErrorNamesProfile()
        {
            string file = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "credentials-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(file, "[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n");
            var target = Valid();
            target.Profile = "missing";
            target.ProfilesLocation = file;
            StringAssert.Contains(InitializeExpectingError(target).Message, "profile 'missing'");
        }

        [TestMethod]
        public void Initialize_PlainHttpToRemoteHost_WarnsThatTheSessionTokenTravelsInClearToo()
        {
            var target = Valid();
            target.ServiceUrl = "http://firehose.example.com/";
            using var capture = new InternalLogCapture(LogLevel.Warn);
            using var factory = Harness.Factory(target);
            StringAssert.Contains(capture.Text, "plain http");
            StringAssert.Contains(capture.Text, "the session token");
        }

        [TestMethod]
        public void Defaults_TunedForFirehose()
        {
            var target = new FirehoseTarget();
            Assert.AreEqual(500, target.MaxRecordsPerCall);
            Assert.AreEqual(1_000, target.BatchSize, "NLog's: events per hand-over");
            Assert.AreEqual(10, target.TaskDelayMilliseconds);
            Assert.AreEqual(200, target.LingerMilliseconds);
            Assert.AreEqual(200_000, target.MaxQueueEvents);
            Assert.AreEqual(2_000, target.QueueLimit, "NLog's: its hand-over queue");
            Assert.AreEqual(AsyncTargetWrapperOverflowAction.Block, target.OverflowAction);
            Assert.IsTrue(target.AppendNewLine);
            Assert.AreEqual(OversizeRecordAction.Truncate, target.OversizeRecordAction);
            Assert.AreEqual(100, target.RetryBackoffMilliseconds);
            Assert.AreEqual(10_000, target.RetryBackoffMaxMilliseconds);
            Assert.AreEqual(60, target.RetryTimeLimitSeconds);
            Assert.AreEqual(30, target.RequestTimeoutSeconds);
            Assert.AreEqual(8, target.MaxConcurrentRequests);
            Assert.AreEqual(64L * 1024 * 1024, target.MaxQueueBytes);
            Assert.AreEqual(60, target.MaxPauseSeconds);
            Assert.IsFalse(target.UseFipsEndpoint);
            Assert.IsNull(target.BufferDirectory);
            Assert.AreEqual(PersistentErrorAction.Keep, target.PersistentErrorAction);
            Assert.IsFalse(target.RecordPacking);
            Assert.AreEqual(1_024_000, target.PackedRecordBytes);
            Assert.AreEqual(1.0, target.BufferFlushInterval);
            Assert.AreEqual(256L * 1024 * 1024, target.MaxBufferBytes);
        }

        [TestMethod]
        public void Xml_EveryOption_Bound()
        {
            string credentials = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "credentials-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(credentials, "[fhtest]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\nregion = eu-west-2\n");
            using var temp = new Support.TempDirectory("fh-xml-"); // deleted after the factory below is disposed
            string bufferDirectory = temp.Path;
            string xml = $@"<nlog xmlns='http://www.nlog-project.org/schemas/NLog.xsd' xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' throwConfigExceptions='true'>
  <extensions><add assembly='NLog.Targets.Firehose'/></extensions>
  <targets>
    <target xsi:type='KinesisFirehose' name='fh'
            deliveryStreamName='logs-${{event-properties:Tenant}}'
            bufferDirectory='{bufferDirectory}'
            bufferFlushInterval='0.5'
            persistentErrorAction='Fail'
            packedRecordBytes='65536'
            proxyUrl='http://proxy.example.com:3128'
            authenticationRegion='eu-central-1'
            proxyBypass='*.internal'
            maxBufferBytes='33554432'
            region='ap-southeast-2'
            profile='fhtest'
            profilesLocation='{credentials}'
            serviceUrl='http://127.0.0.1:9/'
            useFipsEndpoint='true'
            appendNewLine='false'
            oversizeRecordAction='Drop'
            retryBackoffMilliseconds='50'
            retryBackoffMaxMilliseconds='5000'
            retryTimeLimitSeconds='30'
            requestTimeoutSeconds='7'
            maxRecordsPerCall='250'
            maxConcurrentRequests='3'
            maxQueueBytes='2097152'
            maxPauseSeconds='15'
            taskDelayMilliseconds='20'
            lingerMilliseconds='75'
            maxQueueEvents='5000'
            overflowAction='Block'>
      <layout xsi:type='JsonLayout'>
        <attribute name='msg' layout='${{message}}' />
      </layout>
    </target>
  </targets>
  <rules><logger name='*' writeTo='fh' /></rules>
</nlog>";
            using var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromXml(xml);
            var target = factory.Configuration!.FindTargetByName<FirehoseTarget>("fh");

            Assert.IsNotNull(target);
            Assert.AreEqual("logs-${event-properties:Tenant}", ((SimpleLayout)target.DeliveryStreamName!).OriginalText);
            Assert.AreEqual("ap-southeast-2", target.Region!.Render(LogEventInfo.CreateNullEvent()));
            Assert.AreEqual("fhtest", target.Profile!.Render(LogEventInfo.CreateNullEvent()));
            Assert.AreEqual(credentials, target.ProfilesLocation!.Render(LogEventInfo.CreateNullEvent()));
            Assert.AreEqual("http://127.0.0.1:9/", target.ServiceUrl!.Render(LogEventInfo.CreateNullEvent()));
            Assert.IsTrue(target.UseFipsEndpoint);
            Assert.IsFalse(target.AppendNewLine);
            Assert.AreEqual(OversizeRecordAction.Drop, target.OversizeRecordAction);
            Assert.AreEqual(50, target.RetryBackoffMilliseconds);
            Assert.AreEqual(5000, target.RetryBackoffMaxMilliseconds);
            Assert.AreEqual(30, target.RetryTimeLimitSeconds);
            Assert.AreEqual(7, target.RequestTimeoutSeconds);
            Assert.AreEqual(250, target.MaxRecordsPerCall);
            Assert.AreEqual(3, target.MaxConcurrentRequests);
            Assert.AreEqual(2097152L, target.MaxQueueBytes);
            Assert.AreEqual(15, target.MaxPauseSeconds);
            Assert.AreEqual(3, target.MaxConcurrentRequests);
            Assert.AreEqual(20, target.TaskDelayMilliseconds);
            Assert.AreEqual(75, target.LingerMilliseconds);
            Assert.AreEqual(5000, target.MaxQueueEvents);
            Assert.AreEqual(AsyncTargetWrapperOverflowAction.Block, target.OverflowAction);
            Assert.AreEqual("{\"msg\":\"hi\"}", target.Layout.Render(new LogEventInfo(LogLevel.Info, "x", "hi")));
            Assert.AreEqual("eu-central-1", target.Endpoint!.SigningRegion, "authenticationRegion overrides the signing region");
            Assert.AreEqual(bufferDirectory, target.BufferDirectory!.Render(LogEventInfo.CreateNullEvent()));
            Assert.AreEqual(0.5, target.BufferFlushInterval);
            Assert.AreEqual(PersistentErrorAction.Fail, target.PersistentErrorAction);
            Assert.AreEqual(65536, target.PackedRecordBytes);
            Assert.AreEqual("http://proxy.example.com:3128", target.ProxyUrl!.Render(LogEventInfo.CreateNullEvent()));
            Assert.AreEqual("*.internal", target.ProxyBypass!.Render(LogEventInfo.CreateNullEvent()));
            Assert.AreEqual(33554432L, target.MaxBufferBytes);
            Assert.IsTrue(target.IsBufferingToDisk);
            factory.Shutdown();
            Directory.Delete(bufferDirectory, recursive: true);
        }

        [TestMethod]
        public void Xml_RecordPacking_Bound()
        {
            using var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromXml(@"<nlog throwConfigExceptions='true'>
  <extensions><add assembly='NLog.Targets.Firehose'/></extensions>
  <targets><target type='KinesisFirehose' name='fh' deliveryStreamName='app' region='us-east-1' recordPacking='true' /></targets>
  <rules><logger name='*' writeTo='fh' /></rules>
</nlog>");
            Assert.IsTrue(factory.Configuration!.FindTargetByName<FirehoseTarget>("fh")!.RecordPacking);
        }

        [TestMethod]
        public void Xml_CompressionGZip_Bound()
        {
            using var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromXml(@"<nlog throwConfigExceptions='true'>
  <extensions><add assembly='NLog.Targets.Firehose'/></extensions>
  <targets><target type='KinesisFirehose' name='fh' deliveryStreamName='app' region='us-east-1' recordPacking='true' compression='GZip' /></targets>
  <rules><logger name='*' writeTo='fh' /></rules>
</nlog>");
            Assert.AreEqual(RecordCompression.GZip, factory.Configuration!.FindTargetByName<FirehoseTarget>("fh")!.Compression);
        }

        [TestMethod]
        public void Xml_ProfileWithoutRegionOption_RegionFromProfile()
        {
            string credentials = Path.Combine(TestContext.TestRunDirectory ?? Path.GetTempPath(), "credentials-" + Guid.NewGuid().ToString("N"));
            File.WriteAllText(credentials, "[fhtest]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\nregion = eu-west-2\n");
            string xml = $@"<nlog throwConfigExceptions='true'>
  <extensions><add assembly='NLog.Targets.Firehose'/></extensions>
  <targets><target type='KinesisFirehose' name='fh' deliveryStreamName='app' profile='fhtest' profilesLocation='{credentials}' /></targets>
  <rules><logger name='*' writeTo='fh' /></rules>
</nlog>";
            using var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromXml(xml);
            var target = factory.Configuration!.FindTargetByName<FirehoseTarget>("fh");
            Assert.AreEqual("eu-west-2", target!.Endpoint!.SigningRegion);
            Assert.AreEqual(new Uri("https://firehose.eu-west-2.amazonaws.com/"), target.Endpoint.ServiceUri);
        }

        [TestMethod]
        public void Register_SetupExtensions_TypeNameKinesisFirehose()
        {
            using var factory = new LogFactory();
            factory.Setup()
                .SetupExtensions(e => e.RegisterTarget<FirehoseTarget>("KinesisFirehose"))
                .LoadConfigurationFromXml("<nlog throwConfigExceptions='true'><targets><target type='KinesisFirehose' name='fh' deliveryStreamName='s' region='us-east-1' /></targets><rules><logger name='*' writeTo='fh' /></rules></nlog>");
            Assert.IsInstanceOfType<FirehoseTarget>(factory.Configuration!.FindTargetByName("fh"));
        }

        [TestMethod]
        public void Sample_NlogConfigSample_LoadsWithDocumentedDefaults()
        {
            string sample = Path.Combine(AppContext.BaseDirectory, "nlog.config.sample");
            using var factory = new LogFactory();
            factory.Setup().LoadConfigurationFromFile(sample);
            var target = factory.Configuration!.FindTargetByName<FirehoseTarget>("firehose");

            Assert.IsNotNull(target);
            var defaults = new FirehoseTarget();
            Assert.AreEqual(defaults.AppendNewLine, target.AppendNewLine);
            Assert.AreEqual(defaults.OversizeRecordAction, target.OversizeRecordAction);
            Assert.AreEqual(500, target.MaxRecordsPerCall);
            Assert.AreEqual(defaults.MaxConcurrentRequests, target.MaxConcurrentRequests);
            Assert.AreEqual(defaults.TaskDelayMilliseconds, target.TaskDelayMilliseconds);
            Assert.AreEqual(defaults.LingerMilliseconds, target.LingerMilliseconds);
            Assert.AreEqual(defaults.MaxQueueEvents, target.MaxQueueEvents);
            Assert.AreEqual(defaults.OverflowAction, target.OverflowAction);
            Assert.AreEqual(defaults.RetryBackoffMilliseconds, target.RetryBackoffMilliseconds);
            Assert.AreEqual(defaults.RetryBackoffMaxMilliseconds, target.RetryBackoffMaxMilliseconds);
            Assert.AreEqual(defaults.RetryTimeLimitSeconds, target.RetryTimeLimitSeconds);
            Assert.AreEqual(defaults.RequestTimeoutSeconds, target.RequestTimeoutSeconds);
            Assert.AreEqual(defaults.MaxQueueBytes, target.MaxQueueBytes);
            Assert.AreEqual(defaults.MaxPauseSeconds, target.MaxPauseSeconds);
            Assert.AreEqual(defaults.BufferFlushInterval, target.BufferFlushInterval);
            Assert.AreEqual(defaults.PersistentErrorAction, target.PersistentErrorAction);
            Assert.AreEqual(defaults.RecordPacking, target.RecordPacking);
            Assert.AreEqual(defaults.PackedRecordBytes, target.PackedRecordBytes);
            Assert.AreEqual(defaults.MaxBufferBytes, target.MaxBufferBytes);
            Assert.IsNull(target.BufferDirectory);
            var ev = new LogEventInfo(LogLevel.Info, "x", "hi");
            Assert.AreEqual(defaults.Layout.Render(ev), target.Layout.Render(ev), "the sample's layout is the default layout");
        }

        [TestMethod]
        public void Readme_EveryPublicOption_InOptionTable()
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "NLog.Targets.Firehose.sln")))
                dir = dir.Parent;
            Assert.IsNotNull(dir, "repository root not found");
            string readme = File.ReadAllText(Path.Combine(dir.FullName, "README.md"));

            var declared = typeof(FirehoseTarget).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DeclaredOnly)
                .Where(p => p.CanWrite && p.SetMethod!.IsPublic)
                .Select(p => p.Name);
            var inherited = new[] { "Layout", "BatchSize", "TaskDelayMilliseconds", "QueueLimit", "OverflowAction" };
            var missing = declared.Concat(inherited)
                .Select(name => char.ToLowerInvariant(name[0]) + name.Substring(1))
                .Where(option => !readme.Contains("| `" + option + "` |", StringComparison.Ordinal))
                .ToList();
            CollectionAssert.AreEqual(Array.Empty<string>(), missing, "options missing from the README's tables");
        }
    }
}
