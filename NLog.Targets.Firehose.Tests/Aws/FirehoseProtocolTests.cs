using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.Internal.Buffering;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class FirehoseProtocolTests
    {
        /// <summary>The body as the HTTP client writes it: into a (pooled, so larger) array, sized by RequestLength.</summary>
        private static byte[] Body(string stream, IReadOnlyList<BufferedRecord> records)
        {
            int length = FirehoseProtocol.RequestLength(stream, records);
            var destination = new byte[length + 100];
            Assert.AreEqual(length, FirehoseProtocol.WriteRequest(stream, records, destination));
            return destination.AsSpan(0, length).ToArray();
        }

        [TestMethod]
        public void WriteRequest_WritesStreamAndBase64OfEachRecordOnce()
        {
            var records = new List<BufferedRecord> { new BufferedRecord("app-logs", Encoding.UTF8.GetBytes("hello\n"), 2, 0), new BufferedRecord("app-logs", new byte[] { 0, 255, 10 }, 2, 1) };
            byte[] body = Body("app-logs", records);
            Assert.AreEqual("{\"DeliveryStreamName\":\"app-logs\",\"Records\":[{\"Data\":\"aGVsbG8K\"},{\"Data\":\"AP8K\"}]}", Encoding.UTF8.GetString(body));
        }

        [TestMethod]
        public void WriteRequest_EveryPaddingAndSize_ExactlyWhatAJsonWriterWrites()
        {
            var random = new Random(7);
            var records = Enumerable.Range(0, 40).Select(i =>
            {
                var data = new byte[i < 10 ? i + 1 : random.Next(1, 3000)];
                random.NextBytes(data);
                return new BufferedRecord("Stream_1.a-b", data, 2, i);
            }).ToList();

            byte[] body = Body("Stream_1.a-b", records);

            var expected = new System.IO.MemoryStream();
            using (var writer = new Utf8JsonWriter(expected))
            {
                writer.WriteStartObject();
                writer.WriteString("DeliveryStreamName", "Stream_1.a-b");
                writer.WriteStartArray("Records");
                foreach (var record in records)
                {
                    writer.WriteStartObject();
                    writer.WriteBase64String("Data", record.Data.Span);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            CollectionAssert.AreEqual(expected.ToArray(), body, "byte for byte, with no slack at the end");
        }

        [TestMethod]
        public void ParseResponse_AllAccepted_NoFailures()
        {
            var result = FirehoseProtocol.ParseResponse(Encoding.UTF8.GetBytes("{\"FailedPutCount\":0,\"Encrypted\":false,\"RequestResponses\":[{\"RecordId\":\"a\"},{\"RecordId\":\"b\"}]}"), 2);
            Assert.AreEqual(0, result.FailedPutCount);
            Assert.IsTrue(result.ErrorCodes.All(c => c is null));
        }

        [TestMethod]
        [DataRow("{\n  \"Encrypted\" : false,\n  \"FailedPutCount\" : 0,\n  \"RequestResponses\" : [ { \"RecordId\" : \"a\" }, { \"RecordId\" : \"b\" } ]\n}\n", DisplayName = "pretty-printed, count after another field")]
        [DataRow("{\"RequestResponses\":[{\"RecordId\":\"a\"},{\"RecordId\":\"b\"}],\"FailedPutCount\":0}", DisplayName = "count last")]
        public void ParseResponse_PlainSuccessInAnyShape_AllAccepted(string json)
        {
            var result = FirehoseProtocol.ParseResponse(Encoding.UTF8.GetBytes(json), 2);
            Assert.AreEqual(0, result.FailedPutCount);
            Assert.AreEqual(2, result.ErrorCodes.Length);
        }

        [TestMethod]
        [DataRow("{\"FailedPutCount\":2,\"RequestResponses\":[{\"RecordId\":\"a\"},{\"RecordId\":\"b\"}]}", DisplayName = "failures declared, no entry says which")]
        [DataRow("{\"FailedPutCount\":0.5,\"RequestResponses\":[{\"RecordId\":\"a\"},{\"RecordId\":\"b\"}]}", DisplayName = "a count that is not an integer")]
        public void ParseResponse_FailuresThatNoEntryNames_EveryRecordFailed(string json)
        {
            PutRecordBatchResult result;
            try
            {
                result = FirehoseProtocol.ParseResponse(Encoding.UTF8.GetBytes(json), 2);
            }
            catch (System.Text.Json.JsonException)
            {
                return; // not readable: the client retries the call like a lost answer
            }
            Assert.AreEqual(2, result.FailedPutCount);
        }

        [TestMethod]
        public void ParseResponse_PartialFailure_ReportsFailedEntriesInOrder()
        {
            string json = "{\"FailedPutCount\":2,\"RequestResponses\":[{\"ErrorCode\":\"ServiceUnavailableException\",\"ErrorMessage\":\"Slow down.\"},{\"RecordId\":\"b\"},{\"ErrorCode\":\"InternalFailure\",\"ErrorMessage\":\"x\"}]}";
            var result = FirehoseProtocol.ParseResponse(Encoding.UTF8.GetBytes(json), 3);
            Assert.AreEqual(2, result.FailedPutCount);
            CollectionAssert.AreEqual(new[] { "ServiceUnavailableException", null, "InternalFailure" }, result.ErrorCodes);
            Assert.AreEqual("Slow down.", result.ErrorMessages[0]);
        }

        [TestMethod]
        [DataRow("{}", DisplayName = "an empty object (a wrong serviceUrl's answer)")]
        [DataRow("{\"FailedPutCount\":0}", DisplayName = "no entries")]
        [DataRow("{\"FailedPutCount\":0,\"RequestResponses\":[]}", DisplayName = "an empty list")]
        [DataRow("{\"RequestResponses\":[{\"RecordId\":\"a\"}]}", DisplayName = "one entry fewer, no count")]
        [DataRow("{\"FailedPutCount\":0,\"RequestResponses\":[{\"RecordId\":\"a\"},{\"RecordId\":\"b\"},{\"RecordId\":\"c\"}]}", DisplayName = "one entry more")]
        public void ParseResponse_NoFailureButEntriesDoNotMatchTheRecords_EveryRecordFailedAndSaysWhy(string json)
        {
            var result = FirehoseProtocol.ParseResponse(Encoding.UTF8.GetBytes(json), 2);
            Assert.AreEqual(2, result.FailedPutCount, "a 200 that does not answer for each record delivers none of them");
            CollectionAssert.AreEqual(new[] { "InternalFailure", "InternalFailure" }, result.ErrorCodes);
            StringAssert.Contains(result.ErrorMessages[0], "did not match the request's records");
        }

        [TestMethod]
        public void ParseResponse_EntriesDoNotMatchRequest_TreatsAllAsFailed()
        {
            string json = "{\"FailedPutCount\":1,\"RequestResponses\":[{\"ErrorCode\":\"InternalFailure\"}]}";
            var result = FirehoseProtocol.ParseResponse(Encoding.UTF8.GetBytes(json), 3);
            Assert.AreEqual(3, result.FailedPutCount);
            Assert.IsTrue(result.ErrorCodes.All(c => c != null));
        }

        [TestMethod]
        public void ParseError_ReadsTypeAndMessage()
        {
            var (code, message) = FirehoseProtocol.ParseError(Encoding.UTF8.GetBytes("{\"__type\":\"com.amazon#ResourceNotFoundException\",\"message\":\"not found\"}"), null);
            Assert.AreEqual("ResourceNotFoundException", code);
            Assert.AreEqual("not found", message);
        }

        [TestMethod]
        public void ParseError_HeaderWinsAndCapitalMessageRead()
        {
            var (code, message) = FirehoseProtocol.ParseError(Encoding.UTF8.GetBytes("{\"Message\":\"denied\"}"), "AccessDeniedException:http://internal");
            Assert.AreEqual("AccessDeniedException", code);
            Assert.AreEqual("denied", message);
        }

        [TestMethod]
        public void ParseError_NotJson_KeepsNoCode()
        {
            var (code, message) = FirehoseProtocol.ParseError(Encoding.UTF8.GetBytes("<html>bad gateway</html>"), null);
            Assert.IsNull(code);
            Assert.IsNull(message);
        }
    }
}
