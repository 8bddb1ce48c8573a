using System;
using System.IO;

namespace NLog.Targets.Firehose.Tests.Support
{
    /// <summary>A fresh directory path under the temp folder (created by whoever uses it), deleted with what it holds.</summary>
    internal sealed class TempDirectory : IDisposable
    {
        public TempDirectory(string prefix)
        {
            Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));
        }

        public string Path { get; }

        public void Dispose()
        {
            if (Directory.Exists(Path))
                Directory.Delete(Path, recursive: true);
        }
    }
}
