using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public class ErrorClassifierTests
    {
        [TestMethod]
        [DataRow("ResourceNotFoundException", "ResourceNotFoundException")]
        [DataRow("com.amazonaws.firehose#ServiceUnavailableException", "ServiceUnavailableException")]
        [DataRow("ThrottlingException:http://internal.amazon.com/coral/", "ThrottlingException")]
        [DataRow("  ", null)]
        [DataRow(null, null)]
        public void SanitizeErrorCode_StripsNamespaceAndSuffix(string? raw, string? expected)
        {
            Assert.AreEqual(expected, ErrorClassifier.SanitizeErrorCode(raw));
        }

        [TestMethod]
        [DataRow(400, "ServiceUnavailableException", (int)FailureKind.Throttled)]
        [DataRow(400, "ThrottlingException", (int)FailureKind.Throttled)]
        [DataRow(429, null, (int)FailureKind.Throttled)]
        [DataRow(500, "InternalFailure", (int)FailureKind.Transient)]
        [DataRow(502, null, (int)FailureKind.Transient)]
        [DataRow(503, null, (int)FailureKind.Transient)]
        [DataRow(504, null, (int)FailureKind.Transient)]
        [DataRow(400, "InvalidSignatureException", (int)FailureKind.Credentials)]
        [DataRow(403, "SignatureDoesNotMatch", (int)FailureKind.Credentials)]
        [DataRow(400, "RequestExpired", (int)FailureKind.ClockSkew)]
        [DataRow(400, "RequestTimeTooSkewed", (int)FailureKind.ClockSkew)]
        [DataRow(400, "ExpiredTokenException", (int)FailureKind.Credentials)]
        [DataRow(400, "UnrecognizedClientException", (int)FailureKind.Credentials)]
        [DataRow(400, "ResourceNotFoundException", (int)FailureKind.Permanent)]
        [DataRow(400, "InvalidArgumentException", (int)FailureKind.Permanent)]
        [DataRow(400, "InvalidKMSResourceException", (int)FailureKind.Permanent)]
        [DataRow(400, "AccessDeniedException", (int)FailureKind.Permanent)]
        [DataRow(403, null, (int)FailureKind.Permanent)]
        public void ClassifyCall_MapsCodes(int status, string? code, int expected)
        {
            Assert.AreEqual((FailureKind)expected, ErrorClassifier.ClassifyCall(status, code));
        }

        [TestMethod]
        [DataRow("ServiceUnavailableException", (int)FailureKind.Throttled)]
        [DataRow("InternalFailure", (int)FailureKind.Transient)]
        [DataRow("InvalidKMSResourceException", (int)FailureKind.Permanent)]
        public void ClassifyRecord_MapsCodes(string code, int expected)
        {
            Assert.AreEqual((FailureKind)expected, ErrorClassifier.ClassifyRecord(code));
        }
    }
}
