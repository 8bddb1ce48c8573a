using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.Internal.Intake;

namespace NLog.Targets.Firehose.Tests
{
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class Utf16RepairTests
    {
        /// <summary>RepairInPlace, as the encoder calls it, on a copy of <paramref name="text"/>; null when nothing was replaced.</summary>
        private static string? Repair(string text, bool json, out int replaced)
        {
            var chars = (text + "trailing room").ToCharArray(); // the encoder's buffer is larger than the text
            replaced = Utf16Repair.RepairInPlace(chars, text.Length, json);
            return replaced == 0 ? null : new string(chars, 0, text.Length);
        }

        [TestMethod]
        [DataRow("plain text", false)]
        [DataRow("pair \uD83D\uDE00 ok", false)]
        [DataRow("{\"m\":\"pair \\ud83d\\ude00 and \\u0001\"}", true)]
        [DataRow("{\"m\":\"C:\\\\users\\\\ud800\"}", true)] // an escaped backslash before literal "ud800"
        public void Repair_NothingInvalid_NullAndNothingCounted(string text, bool json)
        {
            Assert.IsNull(Repair(text, json, out int replaced));
            Assert.AreEqual(0, replaced);
        }

        [TestMethod]
        public void Repair_LoneSurrogates_ReplacedAndCounted()
        {
            // In code, not DataRow: attribute blobs are UTF-8 and cannot carry lone surrogates.
            var cases = new (string Text, bool Json, string Expected, int Count)[]
            {
                ("a\uD800b", false, "a\uFFFDb", 1),
                ("a\uDC00b\uD800", false, "a\uFFFDb\uFFFD", 2),
                ("\uDE00\uD83D", false, "\uFFFD\uFFFD", 2), // a reversed pair
                ("{\"m\":\"a\\ud800b\"}", true, "{\"m\":\"a\\ufffdb\"}", 1),
                ("{\"m\":\"\\udc00\\ud83d\\ude00\\ud83d\"}", true, "{\"m\":\"\\ufffd\\ud83d\\ude00\\ufffd\"}", 2),
                ("{\"m\":\"raw \uD800 and \\uDBFF\"}", true, "{\"m\":\"raw \uFFFD and \\ufffd\"}", 2),
            };
            foreach (var c in cases)
            {
                Assert.AreEqual(c.Expected, Repair(c.Text, c.Json, out int replaced), c.Expected);
                Assert.AreEqual(c.Count, replaced, c.Expected);
            }
        }

        [TestMethod]
        public void Repair_EscapesInPlainText_LeftAlone()
        {
            Assert.IsNull(Repair("path \\ud800 is text here", json: false, out _));
        }
    }
}
