using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using System.Xml.Linq;
using Microsoft.VisualStudio.TestTools.UnitTesting;
using NLog.Targets.Firehose.StandIn;
using NLog.Targets.Firehose.Tests.Support;

namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// The package as a user gets it: packed from a clone whose remote is on GitHub, then installed from a local folder
    /// into a fresh console project that logs through nlog.config into the stand-in.
    /// </summary>
    [TestClass]
    [TestCategory(TestCategories.Process)]
    public class PackageTests
    {
        public TestContext TestContext { get; set; } = null!;

        private const string Remote = "https://github.com/example-org/NLog.Targets.Firehose.git";

        private static string Run(string workingDirectory, string file, string[] arguments, params (string Name, string? Value)[] environment)
        {
            var (exitCode, output) = ProcessRunner.Run(file, arguments, workingDirectory, TimeSpan.FromMinutes(5), environment);
            Assert.AreEqual(0, exitCode, $"{file} {string.Join(" ", arguments)} failed:\n{output}");
            return output;
        }

        [TestMethod]
        public async Task Pack_MetadataAndSourceLink_InstallsIntoAFreshConsoleAppAndWorksFromNlogConfig()
        {
            string root = ProcessRunner.RepositoryRoot;
            bool git = Directory.Exists(Path.Combine(root, ".git")); // repository metadata and Source Link come from git
            using var temp = new TempDirectory("nlog-firehose-package-");
            string source = Path.Combine(temp.Path, "src");
            string feed = Path.Combine(temp.Path, "feed");
            string app = Path.Combine(temp.Path, "app");
            Directory.CreateDirectory(temp.Path);
            // A unique version, so that NuGet's global cache never serves a package of an earlier run.
            string version = "0.0.0-test." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            string cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "nlog.targets.firehose", version);
            try
            {
                string commit = string.Empty;
                if (git)
                {
                    // Committed sources only, as a release would be packed.
                    Run(temp.Path, "git", new[] { "clone", "--quiet", root, source });
                    Run(source, "git", new[] { "remote", "set-url", "origin", Remote });
                    commit = Run(source, "git", new[] { "rev-parse", "HEAD" }).Trim();
                }
                else
                {
                    source = root;
                    TestContext.WriteLine($"{root} is not a git checkout: repository metadata and Source Link are not checked");
                }
                Run(source, "dotnet", new[] { "pack", "NLog.Targets.Firehose/NLog.Targets.Firehose.csproj", "-c", "Release", "-o", feed, "-p:Version=" + version });

                string nupkg = Path.Combine(feed, $"NLog.Targets.Firehose.{version}.nupkg");
                string snupkg = Path.Combine(feed, $"NLog.Targets.Firehose.{version}.snupkg");
                Assert.IsTrue(File.Exists(nupkg) && File.Exists(snupkg), string.Join(", ", Directory.GetFiles(feed)));
                using (var package = ZipFile.OpenRead(nupkg))
                {
                    var entries = package.Entries.Select(e => e.FullName).ToList();
                    foreach (var expected in new[] { "README.md", "lib/netstandard2.0/NLog.Targets.Firehose.dll", "lib/net8.0/NLog.Targets.Firehose.dll", "lib/net8.0/NLog.Targets.Firehose.xml" })
                        CollectionAssert.Contains(entries, expected);
                    using var nuspecStream = package.GetEntry("NLog.Targets.Firehose.nuspec")!.Open();
                    var metadata = XDocument.Load(nuspecStream).Root!.Elements().First(e => e.Name.LocalName == "metadata");
                    string? Value(string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
                    Assert.AreEqual("MIT", Value("license"));
                    Assert.AreEqual("README.md", Value("readme"));
                    if (git)
                    {
                        var repository = metadata.Elements().Single(e => e.Name.LocalName == "repository");
                        Assert.AreEqual(Remote, (string?)repository.Attribute("url"));
                        Assert.AreEqual(commit, (string?)repository.Attribute("commit"));
                    }
                }
                using (var symbols = git ? ZipFile.OpenRead(snupkg) : null)
                {
                    foreach (var framework in symbols is null ? Array.Empty<string>() : new[] { "netstandard2.0", "net8.0" })
                    {
                        using var pdb = new MemoryStream();
                        using (var entry = symbols!.GetEntry($"lib/{framework}/NLog.Targets.Firehose.pdb")!.Open())
                            entry.CopyTo(pdb);
                        string text = Encoding.UTF8.GetString(pdb.ToArray());
                        StringAssert.Contains(text, $"https://raw.githubusercontent.com/example-org/NLog.Targets.Firehose/{commit}/", "Source Link maps the sources to the commit on GitHub");
                    }
                }

                // A fresh console project that installs the package from the local folder and is configured by nlog.config.
                Directory.CreateDirectory(app);
                File.WriteAllText(Path.Combine(app, "nuget.config"), $@"<?xml version=""1.0"" encoding=""utf-8""?>
<configuration>
  <packageSources>
    <add key=""local"" value=""{feed}"" />
  </packageSources>
</configuration>");
                File.WriteAllText(Path.Combine(app, "App.csproj"), $@"<Project Sdk=""Microsoft.NET.Sdk"">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include=""NLog.Targets.Firehose"" Version=""{version}"" />
  </ItemGroup>
  <ItemGroup>
    <None Update=""nlog.config"" CopyToOutputDirectory=""PreserveNewest"" />
  </ItemGroup>
</Project>");
                File.WriteAllText(Path.Combine(app, "nlog.config"), @"<?xml version=""1.0"" encoding=""utf-8""?>
<nlog xmlns=""http://www.nlog-project.org/schemas/NLog.xsd"" xmlns:xsi=""http://www.w3.org/2001/XMLSchema-instance"" throwConfigExceptions=""true"">
  <extensions>
    <add assembly=""NLog.Targets.Firehose"" />
  </extensions>
  <targets>
    <target xsi:type=""KinesisFirehose"" name=""firehose"" deliveryStreamName=""package-logs"" />
  </targets>
  <rules>
    <logger name=""*"" minlevel=""Info"" writeTo=""firehose"" />
  </rules>
</nlog>");
                File.WriteAllText(Path.Combine(app, "Program.cs"), @"using NLog;
LogManager.Setup().LoadConfigurationFromFile(Path.Combine(AppContext.BaseDirectory, ""nlog.config""));
var logger = LogManager.GetLogger(""App"");
for (int i = 0; i < 100; i++)
    logger.Info(""Installed from a package, event {Seq}"", i);
LogManager.Shutdown();
");
                await using var standIn = await FirehoseStandIn.StartAsync();
                standIn.CreateStream("package-logs");
                Run(app, "dotnet", new[] { "run", "-c", "Release" },
                    ("AWS_ENDPOINT_URL_FIREHOSE", standIn.Url.ToString()),
                    ("AWS_REGION", "us-east-1"),
                    ("AWS_ACCESS_KEY_ID", FirehoseStandIn.DefaultAccessKey),
                    ("AWS_SECRET_ACCESS_KEY", FirehoseStandIn.DefaultSecretKey),
                    ("AWS_EC2_METADATA_DISABLED", "true"));

                Assert.AreEqual(100, standIn.Records("package-logs").Count);
                CollectionAssert.AreEqual(Array.Empty<string>(), standIn.Violations.ToArray());
            }
            finally
            {
                if (Directory.Exists(cached))
                    Directory.Delete(cached, recursive: true);
            }
        }
    }
}
