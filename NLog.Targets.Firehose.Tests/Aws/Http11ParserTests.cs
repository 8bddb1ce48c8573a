using System;
using System.IO;
using System.Text;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws.Transport;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>Reading HTTP/1.1 answers from bytes: heads, headers, chunked bodies, and what is refused.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class Http11ParserTests
    {
        private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

        [TestMethod]
        public void HeadLength_CompleteHead_EndsAfterBlankLine_IncompleteIsMinusOne()
        {
            const string head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
            Assert.AreEqual(head.Length, Http11Parser.HeadLength(Ascii(head + "{}")));
            Assert.AreEqual(-1, Http11Parser.HeadLength(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n")));
            Assert.AreEqual(-1, Http11Parser.HeadLength(Ascii("HTTP/1.1 200 OK\r\nContent-Le")));
            Assert.AreEqual("HTTP/1.1 200 OK\nA: b\n\n".Length, Http11Parser.HeadLength(Ascii("HTTP/1.1 200 OK\nA: b\n\nbody")), "bare line feeds");
        }

        [TestMethod]
        public void ParseHead_ReadsStatusLengthAndTheErrorHeaders_CaseInsensitively()
        {
            var head = Http11Parser.ParseHead(Ascii("HTTP/1.1 400 Bad Request\r\ncontent-length:  57 \r\nX-AMZN-ERRORTYPE: ResourceNotFoundException:http://internal.amazon.com/\r\n"
                + "X-Amzn-RequestId: 3d1f-req\r\nDate: Mon, 30 Nov 2026 16:00:00 GMT\r\nServer: x\r\n\r\n"));
            Assert.AreEqual(400, head.Status);
            Assert.IsTrue(head.Http11);
            Assert.AreEqual(57, head.ContentLength);
            Assert.IsFalse(head.Chunked);
            Assert.IsFalse(head.Close);
            Assert.AreEqual("ResourceNotFoundException:http://internal.amazon.com/", head.ErrorType);
            Assert.AreEqual("3d1f-req", head.RequestId);
            var answer = new HttpAnswer(head.Status, Array.Empty<byte>(), head.ErrorType, head.RequestId, head.Date);
            Assert.AreEqual(new DateTimeOffset(2026, 11, 30, 16, 0, 0, TimeSpan.Zero), answer.Date);
        }

        [TestMethod]
        public void ParseHead_ConnectionCloseAndHttp10_EndTheConnection_ChunkedOverridesLength()
        {
            Assert.IsTrue(Http11Parser.ParseHead(Ascii("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n\r\n")).Close);
            Assert.IsTrue(Http11Parser.ParseHead(Ascii("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")).Close);
            Assert.IsFalse(Http11Parser.ParseHead(Ascii("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n")).Close);
            var chunked = Http11Parser.ParseHead(Ascii("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"));
            Assert.IsTrue(chunked.Chunked);
            Assert.AreEqual(-1, chunked.ContentLength);
            Assert.AreEqual(204, Http11Parser.ParseHead(Ascii("HTTP/1.1 204\r\n\r\n")).Status, "no reason phrase");
        }

        [TestMethod]
        public void ParseHead_Malformed_IsAnIOExceptionNamingIt()
        {
            StringAssert.Contains(Refused("HTTP/2 200 OK\r\n\r\n"), "status line");
            StringAssert.Contains(Refused("<html>\r\n\r\n"), "status line");
            StringAssert.Contains(Refused("HTTP/1.1 2x0 OK\r\n\r\n"), "status line");
            StringAssert.Contains(Refused("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"), "malformed header");
            StringAssert.Contains(Refused("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), "Content-Length");
            StringAssert.Contains(Refused("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), "Content-Length");
            StringAssert.Contains(Refused("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), "Transfer-Encoding");
        }

        private static string Refused(string head)
        {
            try
            {
                Http11Parser.ParseHead(Ascii(head));
            }
            catch (IOException ex)
            {
                return ex.Message;
            }
            Assert.Fail("accepted: " + head);
            return string.Empty;
        }

        [TestMethod]
        public void Chunked_WithExtensionsAndTrailers_DecodesTheData_ArrivingBytesCompleteIt()
        {
            byte[] body = Ascii("4;name=value\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\nNEXT");
            int complete = body.Length - "NEXT".Length;
            for (int cut = 0; cut < complete; cut++)
                Assert.AreEqual(-1, Http11Parser.ChunkedLength(body.AsSpan(0, cut), 1000, out _), "incomplete at " + cut);
            Assert.AreEqual(complete, Http11Parser.ChunkedLength(body, 1000, out int dataLength));
            var data = new byte[dataLength];
            Http11Parser.DecodeChunked(body, data);
            Assert.AreEqual("Wikipedia in\r\n\r\nchunks.", Encoding.ASCII.GetString(data));
        }

        [TestMethod]
        public void Chunked_Malformed_OrLongerThanAllowed_IsAnIOException()
        {
            Assert.ThrowsExactly<IOException>(() => Http11Parser.ChunkedLength(Ascii("zz\r\nab\r\n0\r\n\r\n"), 1000, out _));
            Assert.ThrowsExactly<IOException>(() => Http11Parser.ChunkedLength(Ascii("2\r\nabX\r\n0\r\n\r\n"), 1000, out _));
            Assert.ThrowsExactly<IOException>(() => Http11Parser.ChunkedLength(Ascii("-2\r\nab\r\n0\r\n\r\n"), 1000, out _));
            var ex = Assert.ThrowsExactly<IOException>(() => Http11Parser.ChunkedLength(Ascii("10\r\n"), 15, out _));
            StringAssert.Contains(ex.Message, "longer than 15 bytes");
        }
    }
}
