using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using Amazon;
using Amazon.Runtime;
using Amazon.Runtime.Signing;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;
using NLog.Targets.Firehose.StandIn;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// A Firehose SigV4 vector (a PutRecordBatch request below) and where its expected value comes from:
    /// <see cref="ReferenceSigV4"/>, a few lines written from AWS's description of SigV4, independent of the signer the
    /// library uses (AWSSDK.Core) and of the stand-in's verifier. It is first checked against signatures AWS itself
    /// published (AWS's Signature Version 4 examples, below), then computes the Firehose vector; the SDK's signer and the
    /// stand-in's verifier must both agree with it.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class SigV4Tests
    {
        private const string Secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"; // AWS's documentation example secret
        private const string Body = "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"aGVsbG8K\"}]}";
        private const string ExpectedSignature = "779541eb6d110061780f8fecffe6beda1641585ae80a0b0be060f737e1ccb45c";

        private static readonly Dictionary<string, string> FirehoseHeaders = new Dictionary<string, string>
        {
            ["content-type"] = "application/x-amz-json-1.1",
            ["host"] = "firehose.us-east-1.amazonaws.com",
            ["x-amz-content-sha256"] = Hex(SHA256.HashData(Encoding.UTF8.GetBytes(Body))),
            ["x-amz-date"] = "20250101T000000Z",
            ["x-amz-target"] = "Firehose_20150804.PutRecordBatch",
        };

        [TestMethod]
        [DataRow("http://[::1]:4566/", "[::1]:4566")]
        [DataRow("https://[2001:db8::1]/", "[2001:db8::1]")]
        [DataRow("http://127.0.0.1:4566/", "127.0.0.1:4566")]
        [DataRow("https://firehose.us-east-1.amazonaws.com/", "firehose.us-east-1.amazonaws.com")]
        [DataRow("https://bücher.example:8443/", "xn--bcher-kva.example:8443")]
        public void HostHeader_AsHttpClientSendsIt_IPv6InBrackets(string url, string expected)
        {
            // An IPv6 serviceUrl was signed as "::1:4566" while HttpClient sent "Host: [::1]:4566": SignatureDoesNotMatch.
            Assert.AreEqual(expected, SigV4Signer.HostHeader(new Uri(url)));
        }

        [TestMethod]
        [DataRow("2015-08-30T12:36:00")]
        [DataRow("2026-01-02T03:04:05")]
        [DataRow("0999-12-31T23:59:59")]
        [DataRow("9999-12-31T23:59:59")]
        public void AmzDate_IsTheIsoBasicFormat(string iso)
        {
            var utc = DateTime.Parse(iso, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);
            Assert.AreEqual(utc.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture), SigV4Signer.AmzDate(utc));
        }

        [TestMethod]
        public void ReferenceSigner_AwsPublishedExamples_ReproducesTheirSignatures()
        {
            // AWS SigV4 test suite, case "get-vanilla-query-order-key-case" (docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html):
            // GET /?Param2=value2&Param1=value1, Host example.amazonaws.com, 20150830T123600Z, us-east-1, service "service".
            Assert.AreEqual("b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500", ReferenceSigV4.Sign(
                "GET", "/", "Param1=value1&Param2=value2",
                new Dictionary<string, string> { ["host"] = "example.amazonaws.com", ["x-amz-date"] = "20150830T123600Z" },
                Array.Empty<byte>(), "20150830T123600Z", "us-east-1", "service", Secret));

            // AWS General Reference, "Signed Signature Version 4 Requests Examples": IAM ListUsers as a POST with a form body.
            Assert.AreEqual("ced6826de92d2bdeed8f846f0bf508e8559e98e4b0199114b84c54174deb456c", ReferenceSigV4.Sign(
                "POST", "/", string.Empty,
                new Dictionary<string, string>
                {
                    ["content-type"] = "application/x-www-form-urlencoded; charset=utf-8",
                    ["host"] = "iam.amazonaws.com",
                    ["x-amz-date"] = "20110909T233600Z",
                },
                Encoding.UTF8.GetBytes("Action=ListUsers&Version=2010-05-08"), "20110909T233600Z", "us-east-1", "iam", Secret));
        }

        [TestMethod]
        public void ReferenceSigner_FirehoseVector_IsTheDocumentedSignature()
        {
            Assert.AreEqual(ExpectedSignature, ReferenceSigV4.Sign("POST", "/", string.Empty, FirehoseHeaders, Encoding.UTF8.GetBytes(Body),
                "20250101T000000Z", "us-east-1", "firehose", Secret));
        }

        [TestMethod]
        public void AwsSigV4Signer_TestVector_MatchesTheReferenceSignature()
        {
            string authorization = SdkAuthorization(new Uri("https://firehose.us-east-1.amazonaws.com/"), Encoding.UTF8.GetBytes(Body),
                RegionEndpoint.USEast1, new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));
            StringAssert.Contains(authorization, "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target");
            StringAssert.EndsWith(authorization, "Signature=" + ExpectedSignature);
        }

        [TestMethod]
        public void TargetSigner_TestVector_SignsWhatTheSdkSignsWithTheReferenceSignature()
        {
            var signer = new SigV4Signer(new Uri("https://firehose.us-east-1.amazonaws.com/"), "us-east-1", "firehose");
            using var request = new HttpRequestMessage(HttpMethod.Post, "https://firehose.us-east-1.amazonaws.com/");
            byte[] body = Encoding.UTF8.GetBytes(Body + "unsent tail");
            SignInto(request, signer, body, Body.Length, "application/x-amz-json-1.1", "Firehose_20150804.PutRecordBatch",
                new ImmutableCredentials("AKIDEXAMPLE", Secret, null), new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc));

            string authorization = request.Headers.GetValues("Authorization").Single();
            Assert.AreEqual("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250101/us-east-1/firehose/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target, Signature=" + ExpectedSignature, authorization);
            Assert.AreEqual(FirehoseHeaders["x-amz-content-sha256"], request.Headers.GetValues("X-Amz-Content-SHA256").Single());
            Assert.AreEqual("20250101T000000Z", request.Headers.GetValues("X-Amz-Date").Single());
            Assert.IsFalse(request.Headers.Contains("X-Amz-Security-Token"));
        }

        [TestMethod]
        [DataRow("https://firehose.eu-central-1.amazonaws.com/")]
        [DataRow("http://localhost:4566/")]
        [DataRow("https://vpce-0123.firehose.eu-central-1.vpce.amazonaws.com/proxy/firehose")]
        [DataRow("https://gateway.example.com:8443/a%20b/firehose?b=2&a=1")]
        [DataRow("https://gateway.example.com/firehose?a-b=1&a=2&a=1", DisplayName = "sorted by name, then value: 'a' before 'a-b'")]
        public void TargetSigner_EndpointsWithPortsPathsAndQueries_SignLikeTheSdk(string endpoint)
        {
            // The SDK's signer is the reference for what AWS accepts: same request, same time, same keys, same signature.
            var uri = new Uri(endpoint);
            byte[] body = Encoding.UTF8.GetBytes(Body);
            var signedAt = new DateTime(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
            string sdk = SdkAuthorization(uri, body, RegionEndpoint.EUCentral1, signedAt);

            var signer = new SigV4Signer(uri, "eu-central-1", "firehose");
            using var request = new HttpRequestMessage(HttpMethod.Post, uri);
            SignInto(request, signer, body, body.Length, "application/x-amz-json-1.1", "Firehose_20150804.PutRecordBatch",
                new ImmutableCredentials("AKIDEXAMPLE", Secret, null), signedAt);

            Assert.AreEqual(sdk, request.Headers.GetValues("Authorization").Single());
        }

        [TestMethod]
        public void TargetSigner_SessionToken_SignedAsTheReferenceSignsIt()
        {
            var signer = new SigV4Signer(new Uri("http://127.0.0.1:4566/"), "eu-west-1", "firehose");
            using var request = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:4566/");
            byte[] body = Encoding.UTF8.GetBytes(Body);
            SignInto(request, signer, body, body.Length, "application/x-amz-json-1.1", "Firehose_20150804.PutRecordBatch",
                new ImmutableCredentials("ASIAEXAMPLE", Secret, "session-token"), new DateTime(2025, 6, 30, 23, 59, 59, DateTimeKind.Utc));

            var headers = new Dictionary<string, string>
            {
                ["content-type"] = "application/x-amz-json-1.1",
                ["host"] = "127.0.0.1:4566",
                ["x-amz-content-sha256"] = Hex(SHA256.HashData(body)),
                ["x-amz-date"] = "20250630T235959Z",
                ["x-amz-security-token"] = "session-token",
                ["x-amz-target"] = "Firehose_20150804.PutRecordBatch",
            };
            string expected = ReferenceSigV4.Sign("POST", "/", string.Empty, headers, body, "20250630T235959Z", "eu-west-1", "firehose", Secret);
            StringAssert.EndsWith(request.Headers.GetValues("Authorization").Single(), "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-amz-target, Signature=" + expected);
            Assert.AreEqual("session-token", request.Headers.GetValues("X-Amz-Security-Token").Single());
        }

        [TestMethod]
        public void StandInVerifier_TestVector_ComputesTheReferenceSignature()
        {
            string signature = SigV4Verifier.ComputeSignature("POST", "/", string.Empty, FirehoseHeaders, FirehoseHeaders.Keys, FirehoseHeaders["x-amz-content-sha256"],
                "20250101T000000Z", "us-east-1", "firehose", Secret);
            Assert.AreEqual(ExpectedSignature, signature);
        }

        /// <summary>The Authorization header AWSSDK.Core's signer makes for a PutRecordBatch of <paramref name="body"/>.</summary>
        private static string SdkAuthorization(Uri endpoint, byte[] body, RegionEndpoint region, DateTime signedAt)
        {
            var request = new AWSSigningRequest { HttpMethod = HttpMethod.Post, RequestUri = endpoint, Content = body };
            request.Headers["Content-Type"] = "application/x-amz-json-1.1";
            request.Headers["X-Amz-Target"] = "Firehose_20150804.PutRecordBatch";
            var result = AWSSigV4Signer.Sign(request, new AWSSigV4Parameters
            {
                Credentials = new BasicAWSCredentials("AKIDEXAMPLE", Secret),
                Region = region,
                Service = "firehose",
                SignPayload = true,
                SignedAt = signedAt,
            });
            return result.Headers.First(h => h.Key == "Authorization").Value;
        }

        private static string Hex(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

        /// <summary>SigV4 as AWS describes it (canonical request, string to sign, derived key), for the tests only.</summary>
        private static class ReferenceSigV4
        {
            public static string Sign(string method, string path, string canonicalQuery, IDictionary<string, string> headers, byte[] payload,
                string amzDate, string region, string service, string secret)
            {
                var names = headers.Keys.Select(k => k.ToLowerInvariant()).OrderBy(k => k, StringComparer.Ordinal).ToList();
                var canonicalHeaders = new StringBuilder();
                foreach (string name in names)
                    canonicalHeaders.Append(name).Append(':').Append(headers[name].Trim()).Append('\n');
                string canonicalRequest = string.Join("\n", method, path, canonicalQuery, canonicalHeaders.ToString(), string.Join(";", names),
                    Hex(SHA256.HashData(payload)));
                string date = amzDate.Substring(0, 8);
                string scope = $"{date}/{region}/{service}/aws4_request";
                string stringToSign = string.Join("\n", "AWS4-HMAC-SHA256", amzDate, scope, Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest))));
                byte[] key = Encoding.UTF8.GetBytes("AWS4" + secret);
                foreach (string part in new[] { date, region, service, "aws4_request" })
                    key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
                return Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
            }
        }

        /// <summary>Adds the signer's headers to <paramref name="request"/>, as the HttpClient transport sends them.</summary>
        private static void SignInto(HttpRequestMessage request, SigV4Signer signer, byte[] body, int length, string contentType, string amzTarget, ImmutableCredentials credentials, DateTime signedAtUtc)
        {
            var signature = signer.Sign(body, length, contentType, amzTarget, credentials, signedAtUtc);
            request.Headers.TryAddWithoutValidation("X-Amz-Date", signature.AmzDate);
            request.Headers.TryAddWithoutValidation("X-Amz-Content-SHA256", signature.PayloadHash);
            if (signature.SecurityToken != null)
                request.Headers.TryAddWithoutValidation("X-Amz-Security-Token", signature.SecurityToken);
            request.Headers.TryAddWithoutValidation("Authorization", signature.Authorization);
        }
    }
}
