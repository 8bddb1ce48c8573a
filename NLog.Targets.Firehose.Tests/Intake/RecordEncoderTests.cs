using System;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class RecordEncoderTests
    {
        private const int Max = FirehoseLimits.MaxRecordBytes;

        private static LogEventInfo Event(string message = "hello", Exception? ex = null)
        {
            return new LogEventInfo(LogLevel.Info, "Tests.Logger", message) { Exception = ex, TimeStamp = new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc) };
        }

        [TestMethod]
        [DataRow("{\"a\":1}", "{\"a\":1}\n")]
        [DataRow("{\"a\":1}\n", "{\"a\":1}\n")]
        [DataRow("{\"a\":1}\r\n\r\n", "{\"a\":1}\n")]
        [DataRow("", "\n")]
        public void Encode_AppendNewLine_EndsWithExactlyOneNewLine(string text, string expected)
        {
            var encoder = new RecordEncoder(appendNewLine: true, OversizeRecordAction.Truncate);
            var bytes = encoder.Encode(text, Event(), out var outcome);
            Assert.AreEqual(expected, Encoding.UTF8.GetString(bytes!));
            Assert.AreEqual(EncodeOutcome.Encoded, outcome);
        }

        [TestMethod]
        public void Encode_NoAppendNewLine_KeepsTextAsIs()
        {
            var encoder = new RecordEncoder(appendNewLine: false, OversizeRecordAction.Truncate);
            Assert.AreEqual("line\n\n", Encoding.UTF8.GetString(encoder.Encode("line\n\n", Event(), out _)!));
        }

        [TestMethod]
        public void Encode_LoneSurrogate_BecomesReplacementCharacter()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            var bytes = encoder.Encode("a\uD800b", Event(), out var outcome);
            CollectionAssert.AreEqual(new byte[] { (byte)'a', 0xEF, 0xBF, 0xBD, (byte)'b', (byte)'\n' }, bytes);
            Assert.AreEqual(EncodeOutcome.Encoded, outcome);
        }

        [TestMethod]
        public void Encode_ExactlyAtLimit_IsNotTruncated()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            var bytes = encoder.Encode(new string('x', Max - 1), Event(), out var outcome);
            Assert.AreEqual(Max, bytes!.Length);
            Assert.AreEqual(EncodeOutcome.Encoded, outcome);
        }

        [TestMethod]
        public void Encode_OneByteOverLimitPlainText_TruncatedWithMarkerWithinLimit()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            var bytes = encoder.Encode(new string('x', Max), Event(), out var outcome);
            Assert.AreEqual(EncodeOutcome.Truncated, outcome);
            Assert.IsTrue(bytes!.Length <= Max);
            string text = Encoding.UTF8.GetString(bytes);
            StringAssert.EndsWith(text, "...[truncated]\n");
        }

        [TestMethod]
        public void Encode_OversizedMultiByteText_CutsOnCharacterBoundary()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            string text = string.Concat(Enumerable.Repeat("é😀", Max / 3));
            var bytes = encoder.Encode(text, Event(), out _);
            Assert.IsTrue(bytes!.Length <= Max);
            string decoded = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); // throws on a split character
            StringAssert.EndsWith(decoded, "...[truncated]\n");
        }

        [TestMethod]
        public void Encode_OversizedJson_StaysValidJsonAndSaysTruncated()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            string message = new string('m', 3 * Max);
            var ev = Event(message, new InvalidOperationException(new string('e', 2 * Max)));
            var bytes = encoder.Encode("{\"message\":\"" + message + "\"}", ev, out var outcome);

            Assert.AreEqual(EncodeOutcome.Truncated, outcome);
            Assert.IsTrue(bytes!.Length <= Max, $"{bytes.Length} bytes");
            Assert.AreEqual((byte)'\n', bytes[^1]);
            using var doc = JsonDocument.Parse(bytes.AsMemory(0, bytes.Length - 1));
            var root = doc.RootElement;
            Assert.IsTrue(root.GetProperty("truncated").GetBoolean());
            Assert.IsTrue(root.GetProperty("originalBytes").GetInt32() > Max);
            Assert.AreEqual("INFO", root.GetProperty("level").GetString());
            Assert.AreEqual("Tests.Logger", root.GetProperty("logger").GetString());
            Assert.AreEqual("2026-01-02T03:04:05.0000000Z", root.GetProperty("time").GetString());
            StringAssert.StartsWith(root.GetProperty("message").GetString(), "mmmm");
            StringAssert.Contains(root.GetProperty("exception").GetString(), "InvalidOperationException");
        }

        [TestMethod]
        public void Encode_OversizedJsonOfControlCharacters_StillFits()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Truncate);
            string message = new string('\u0001', Max);
            var bytes = encoder.Encode("{\"message\":\"" + message + "\"}", Event(message), out _);
            Assert.IsTrue(bytes!.Length <= Max);
            using var doc = JsonDocument.Parse(bytes.AsMemory(0, bytes.Length - 1));
            Assert.IsTrue(doc.RootElement.GetProperty("truncated").GetBoolean());
        }

        [TestMethod]
        public void Encode_OversizedWithDrop_ReturnsNull()
        {
            var encoder = new RecordEncoder(true, OversizeRecordAction.Drop);
            Assert.IsNull(encoder.Encode(new string('x', Max), Event(), out var outcome));
            Assert.AreEqual(EncodeOutcome.Dropped, outcome);
        }
    }
}
