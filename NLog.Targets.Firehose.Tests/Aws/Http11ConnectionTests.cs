using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Aws.Transport;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>One HTTP/1.1 connection over a scripted stream: what it writes, how it reads answers in pieces, when it may be used again.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class Http11ConnectionTests
    {
        private static readonly byte[] Head = Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\n");
        private static readonly byte[] Body = Encoding.ASCII.GetBytes("{}..");

        [TestMethod]
        public async Task Send_WritesHeadAndBody_ReadsAnAnswerArrivingByteByByte_KeepsTheConnection()
        {
            var stream = new ScriptedStream("HTTP/1.1 200 OK\r\nContent-Length: 17\r\nx-amzn-RequestId: r-1\r\n\r\n{\"FailedPutCount\"", pieceSize: 1);
            using var connection = new Http11Connection(stream, socket: null);
            var answer = await connection.SendAsync(Head, Head.Length, Body, 2, CancellationToken.None);
            Assert.AreEqual(200, answer.Status);
            Assert.AreEqual("{\"FailedPutCount\"", Encoding.ASCII.GetString(answer.Body));
            Assert.AreEqual("r-1", answer.RequestId);
            Assert.IsTrue(connection.KeepAlive);
            Assert.IsTrue(connection.IsReusable());
            Assert.AreEqual(Encoding.ASCII.GetString(Head) + "{}", Encoding.ASCII.GetString(stream.Written.ToArray()), "the head, then only the body's first length bytes");
        }

        [TestMethod]
        public async Task Send_InterimContinueThenChunkedAnswer_ReturnsTheFinalAnswer()
        {
            var stream = new ScriptedStream("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\nX-Amzn-ErrorType: ServiceUnavailableException\r\n\r\n"
                + "5\r\n{\"a\":\r\n3\r\n12}\r\n0\r\n\r\n", pieceSize: 7);
            using var connection = new Http11Connection(stream, socket: null);
            var answer = await connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None);
            Assert.AreEqual(503, answer.Status);
            Assert.AreEqual("ServiceUnavailableException", answer.ErrorType);
            Assert.AreEqual("{\"a\":12}", Encoding.ASCII.GetString(answer.Body));
            Assert.IsTrue(connection.KeepAlive);
        }

        [TestMethod]
        public async Task Send_TwoAnswersInARow_OnOneConnection_EachReadWhole()
        {
            var stream = new ScriptedStream("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nA", pieceSize: 1000);
            using var connection = new Http11Connection(stream, socket: null);
            Assert.AreEqual("A", Encoding.ASCII.GetString((await connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None)).Body));
            stream.Add("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nBC");
            Assert.AreEqual("BC", Encoding.ASCII.GetString((await connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None)).Body));
            Assert.IsTrue(connection.KeepAlive);
        }

        [TestMethod]
        public async Task Send_BodyUntilTheEnd_OrCloseOrUnaskedBytes_DoNotKeepTheConnection()
        {
            var untilEnd = new ScriptedStream("HTTP/1.1 200 OK\r\n\r\nall of it", pieceSize: 3);
            using (var connection = new Http11Connection(untilEnd, socket: null))
            {
                Assert.AreEqual("all of it", Encoding.ASCII.GetString((await connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None)).Body));
                Assert.IsFalse(connection.KeepAlive);
            }
            using (var connection = new Http11Connection(new ScriptedStream("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 100), socket: null))
            {
                await connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None);
                Assert.IsFalse(connection.KeepAlive);
            }
            using (var connection = new Http11Connection(new ScriptedStream("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n", 100), socket: null))
            {
                await connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None);
                Assert.IsFalse(connection.KeepAlive, "bytes nobody asked for");
                Assert.IsFalse(connection.IsReusable());
            }
        }

        [TestMethod]
        public async Task Send_ClosedBeforeOrDuringTheAnswer_IsAnIOException_SayingWhetherAnythingArrived()
        {
            using (var connection = new Http11Connection(new ScriptedStream(string.Empty, 10), socket: null))
            {
                var ex = await Assert.ThrowsExactlyAsync<IOException>(() => connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None));
                StringAssert.Contains(ex.Message, "before an answer arrived");
                Assert.IsFalse(connection.AnswerStarted);
            }
            using (var connection = new Http11Connection(new ScriptedStream("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 10), socket: null))
            {
                var ex = await Assert.ThrowsExactlyAsync<IOException>(() => connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None));
                StringAssert.Contains(ex.Message, "before the answer was complete");
                Assert.IsTrue(connection.AnswerStarted);
            }
        }

        [TestMethod]
        public async Task Send_HugeHeadOrBody_IsRefusedWithoutReadingItAll()
        {
            using (var connection = new Http11Connection(new ScriptedStream("HTTP/1.1 200 OK\r\nX: " + new string('a', Http11Connection.MaxHeaderBytes + 10), 4096), socket: null))
            {
                var ex = await Assert.ThrowsExactlyAsync<IOException>(() => connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None));
                StringAssert.Contains(ex.Message, "longer than");
            }
            using (var connection = new Http11Connection(new ScriptedStream("HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n", 4096), socket: null))
            {
                var ex = await Assert.ThrowsExactlyAsync<IOException>(() => connection.SendAsync(Head, Head.Length, Body, Body.Length, CancellationToken.None));
                StringAssert.Contains(ex.Message, "longer than");
            }
        }

        /// <summary>A stream that answers reads from a script in pieces of at most a given size and keeps what is written.</summary>
        private sealed class ScriptedStream : Stream
        {
            private readonly Queue<byte> _script = new Queue<byte>();
            private readonly int _pieceSize;

            public ScriptedStream(string script, int pieceSize)
            {
                _pieceSize = pieceSize;
                Add(script);
            }

            public MemoryStream Written { get; } = new MemoryStream();

            public void Add(string script)
            {
                foreach (byte b in Encoding.ASCII.GetBytes(script))
                    _script.Enqueue(b);
            }

            public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            {
                int count = Math.Min(Math.Min(buffer.Length, _pieceSize), _script.Count);
                var span = buffer.Span;
                for (int i = 0; i < count; i++)
                    span[i] = _script.Dequeue();
                return new ValueTask<int>(count);
            }

            public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
            {
                Written.Write(buffer.Span);
                return default;
            }

            public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).Result;

            public override void Write(byte[] buffer, int offset, int count) => Written.Write(buffer, offset, count);

            public override bool CanRead => true;

            public override bool CanSeek => false;

            public override bool CanWrite => true;

            public override long Length => throw new NotSupportedException();

            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

            public override void Flush()
            {
            }

            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }
}
