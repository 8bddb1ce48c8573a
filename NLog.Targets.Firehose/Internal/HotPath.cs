using System.Runtime.CompilerServices;

namespace NLog.Targets.Firehose.Internal
{
    /// <summary>
    /// For methods that run for every event or every call: compiled fully optimized at their first call
    /// (<c>MethodImplOptions.AggressiveOptimization</c>, by value: netstandard2.0 does not name it). Measured (README,
    /// "Performance and cost"): without it a loop in such a method runs for seconds in the runtime's tier 0 and then its
    /// instrumented tier, where each iteration calls into the runtime, before the optimized code takes over — most of a
    /// short burst's CPU. Only for loops over events, records or characters; everything else tiers as usual.
    /// </summary>
    internal static class HotPath
    {
        public const MethodImplOptions Optimized = (MethodImplOptions)512;
    }
}
