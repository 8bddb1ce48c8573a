using System;
using System.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NetArchTest.Rules;

namespace NLog.Targets.Firehose.Tests.Architecture
{
    /// <summary>
    /// The library's folders depend one way, as the README's Architecture section draws them: each may use the folders
    /// after it in <see cref="Layers"/>, never one before it, and only <c>Setup</c> knows the target. Read from the
    /// compiled assembly (method bodies included), so a new use of a folder above fails here, not in a review.
    /// </summary>
    [TestClass]
    public class FolderDependencyTests
    {
        private const string Internal = "NLog.Targets.Firehose.Internal";

        /// <summary>Top to bottom. <c>Internal</c> itself (the <c>HotPath</c> attribute's constant) is below them all.</summary>
        private static readonly string[] Layers = { "Setup", "Intake", "Delivery", "Durability", "Buffering", "Aws", "Diagnostics" };

        public static System.Collections.Generic.IEnumerable<object[]> Folders => Layers.Select((name, i) => new object[] { name, i });

        [TestMethod]
        [DynamicData(nameof(Folders))]
        public void Folder_UsesNoFolderAboveIt(string folder, int index)
        {
            var above = Layers.Take(index).Select(name => $"{Internal}.{name}").ToArray();
            if (above.Length == 0)
                return;

            var result = Types.InAssembly(typeof(FirehoseTarget).Assembly)
                .That().ResideInNamespace($"{Internal}.{folder}")
                .ShouldNot().HaveDependencyOnAny(above)
                .GetResult();

            Assert.IsTrue(result.IsSuccessful, $"{folder}/ uses a folder above it ({string.Join(", ", above)}): {Failing(result)}");
        }

        [TestMethod]
        public void PartsBelowSetup_NeverKnowTheTarget()
        {
            // Setup reads the target's options and hands every other part what it needs.
            var result = Types.InAssembly(typeof(FirehoseTarget).Assembly)
                .That().ResideInNamespace(Internal).And().DoNotResideInNamespace(Internal + ".Setup")
                .ShouldNot().HaveDependencyOnAny(typeof(FirehoseTarget).FullName!)
                .GetResult();

            Assert.IsTrue(result.IsSuccessful, "parts that know the target: " + Failing(result));
        }

        private static string Failing(NetArchTest.Rules.TestResult result) =>
            string.Join("; ", (result.FailingTypes ?? Array.Empty<IType>()).Select(t => $"{t.FullName} ({t.Explanation})"));

        [TestMethod]
        public void EveryFolder_HasItsPlaceInTheLayers()
        {
            var folders = typeof(FirehoseTarget).Assembly.GetTypes()
                .Select(t => t.Namespace ?? "")
                .Where(ns => ns.StartsWith(Internal + ".", StringComparison.Ordinal))
                .Select(ns => ns.Substring(Internal.Length + 1).Split('.')[0])
                .Distinct()
                .ToArray();

            CollectionAssert.AreEquivalent(Layers, folders, "a folder was added or removed: give it its place in Layers and in the README's Architecture section");
        }
    }
}
