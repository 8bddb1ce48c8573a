namespace NLog.Targets.Firehose.Internal.Aws
{
    /// <summary>What the start-up check reads of a delivery stream.</summary>
    internal sealed class DeliveryStreamDescription
    {
        public DeliveryStreamDescription(string? status, string? type)
        {
            Status = status;
            Type = type;
        }

        /// <summary>CREATING, ACTIVE, DELETING, CREATING_FAILED, DELETING_FAILED.</summary>
        public string? Status { get; }

        /// <summary>DirectPut, KinesisStreamAsSource, MSKAsSource, DatabaseAsSource.</summary>
        public string? Type { get; }
    }
}
