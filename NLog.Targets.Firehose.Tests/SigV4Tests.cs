using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>The SigV4 test vector from FIREHOSE.md, through the AWS SDK's signer and through the stand-in's verifier.</summary>
    [TestClass]
    public class SigV4Tests
    {
        private const string Body = "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"aGVsbG8K\"}]}";
        private const string ExpectedSignature = "779541eb6d110061780f8fecffe6beda1641585ae80a0b0be060f737e1ccb45c";

        [TestMethod]
        public void AwsSigV4Signer_TestVector_MatchesDocumentedSignature()
        {
            var request = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = new Uri("https://firehose.us-east-1.amazonaws.com/"), Content = Encoding.UTF8.GetBytes(Body) };
            request.Headers["Content-Type"] = "application/x-amz-json-1.1";
            request.Headers["X-Amz-Target"] = "Firehose_20150804.PutRecordBatch";
            var result = AWSSigV4Signer.Sign(request, new AWSSigV4Parameters
            {
                Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                Region = RegionEndpoint.USEast1,
                Service = "firehose",
                SignPayload = true,
                SignedAt = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc),
            });
            string authorization = result.Headers.First(h => h.Key == "Authorization").Value;
            StringAssert.Contains(authorization, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target");
            StringAssert.EndsWith(authorization, "Signature=" + ExpectedSignature);
        }

        [TestMethod]
        public void StandInVerifier_TestVector_ComputesDocumentedSignature()
        {
            var headers = new Dictionary<string, string>
            {
                ["content-type"] = "application/x-amz-json-1.1",
                ["host"] = "firehose.us-east-1.amazonaws.com",
                ["x-amz-content-sha256"] = SigV4Verifier.HashHex(Encoding.UTF8.GetBytes(Body)),
                ["x-amz-date"] = "20250101T000000Z",
                ["x-amz-target"] = "Firehose_20150804.PutRecordBatch",
            };
            string signature = SigV4Verifier.ComputeSignature("POST", "/", string.Empty, headers, headers.Keys, headers["x-amz-content-sha256"],
                "20250101T000000Z", "us-east-1", "firehose", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
            Assert.AreEqual(ExpectedSignature, signature);
        }
    }
}
