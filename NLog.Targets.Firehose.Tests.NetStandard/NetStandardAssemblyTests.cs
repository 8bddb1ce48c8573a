using System.Reflection;
using System.Runtime.Versioning;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>This project runs the library's netstandard2.0 assembly: the shared tests prove that build.</summary>
    [TestClass]
    [TestCategory(TestCategories.Unit)]
    public sealed class NetStandardAssemblyTests
    {
        [TestMethod]
        public void TheLibraryUnderTest_IsItsNetStandard20Assembly()
        {
            var framework = typeof(FirehoseTarget).Assembly.GetCustomAttribute<TargetFrameworkAttribute>();
            Assert.AreEqual(".NETStandard,Version=v2.0", framework?.FrameworkName, "the tests here must run the netstandard2.0 build");
        }
    }
}
