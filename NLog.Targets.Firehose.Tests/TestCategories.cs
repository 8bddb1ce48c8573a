namespace NLog.Targets.Firehose.Tests
{
    /// <summary>
    /// Every test class has one of these categories, so a developer's loop can be one filter
    /// (<c>dotnet test NLog.Targets.Firehose.sln --filter TestCategory=Unit</c>); CI runs them all.
    /// </summary>
    internal static class TestCategories
    {
        /// <summary>In process, no network: the pieces, and the target with a substituted client. Seconds.</summary>
        public const string Unit = "Unit";

        /// <summary>The real HTTP client against the loopback stand-in (Kestrel) in this process.</summary>
        public const string Http = "Http";

        /// <summary>Other processes: crash children (kill -9), examples, packaging, proxies from the environment, moto.</summary>
        public const string Process = "Process";
    }
}
