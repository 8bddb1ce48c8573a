using System;
using NLog.Config;
using NLog.Layouts;
using NLog.Targets.Firehose;

namespace NLog
{
    /// <summary>Code-first setup in NLog's fluent style.</summary>
    public static class FirehoseSetupBuilderExtensions
    {
        /// <summary>
        /// Writes to an Amazon Kinesis Data Firehose delivery stream:
        /// <c>LogManager.Setup().LoadConfiguration(c =&gt; c.ForLogger().WriteToKinesisFirehose("app-logs"))</c>.
        /// </summary>
        /// <param name="configBuilder">The rule being built.</param>
        /// <param name="deliveryStreamName">The delivery stream (a layout: rendered per event).</param>
        /// <param name="layout">The record layout; default: the target's JSON layout.</param>
        /// <param name="region">The AWS region; default: the AWS SDK's rules.</param>
        /// <param name="configure">Sets any other option of the target.</param>
        public static ISetupConfigurationTargetBuilder WriteToKinesisFirehose(this ISetupConfigurationTargetBuilder configBuilder,
            Layout deliveryStreamName, Layout? layout = null, Layout? region = null, Action<FirehoseTarget>? configure = null)
        {
            if (configBuilder is null)
                throw new ArgumentNullException(nameof(configBuilder));
            var target = new FirehoseTarget { DeliveryStreamName = deliveryStreamName ?? throw new ArgumentNullException(nameof(deliveryStreamName)) };
            if (layout != null)
                target.Layout = layout;
            if (region != null)
                target.Region = region;
            configure?.Invoke(target);
            return configBuilder.WriteTo(target);
        }
    }
}
