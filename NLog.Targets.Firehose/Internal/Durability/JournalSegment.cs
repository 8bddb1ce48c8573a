using System.IO;

namespace NLog.Targets.Firehose.Internal.Durability
{
    /// <summary>One segment file of the durable buffer and what is known of its records.</summary>
    internal sealed class JournalSegment
    {
        public JournalSegment(string name, string basePath, FileStream? lockFile)
        {
            Name = name;
            BasePath = basePath;
            Lock = lockFile;
        }

        public string Name { get; }

        public string BasePath { get; }

        public FileStream? Lock { get; }

        public FileStream? Data { get; set; }

        public FileStream? Acks { get; set; }

        /// <summary>Records written.</summary>
        public int Count { get; set; }

        /// <summary>Records written and not done with.</summary>
        public int Outstanding { get; set; }

        public long Length { get; set; }

        /// <summary>No more records are written to it; it is deleted once nothing is outstanding.</summary>
        public bool Sealed { get; set; }

        public bool Deleted { get; set; }
    }
}
