namespace NLog.Targets.Firehose.Internal.Delivery
{
    /// <summary>
    /// The quota learner's numbers (<see cref="StreamRate"/>), in one place, each with why it has its value. They were
    /// chosen against the stand-in's quotas and faults (QuotaLearnerTests, the quota scenarios in the delivery tests): a
    /// change here is a change of those tests' promises.
    /// </summary>
    internal static class QuotaRules
    {
        // What a rate is.

        /// <summary>A learned rate is 95% of what the quota let through a second: near enough to use it, far enough that calls bunched within a second do not spend it.</summary>
        public const double Margin = 0.95;

        /// <summary>The lowest learned rate, in events a second: a stream is slowed, never starved; growing finds the quota again from there.</summary>
        public const double FloorRecords = 10;

        /// <summary>The lowest learned rate in bytes a second (about ten small events).</summary>
        public const double FloorBytes = 10_000;

        /// <summary>The most of a fault's share that raises the rate (1 / (1 − 0.5): twice at most): a share is known from a few dozen calls at first.</summary>
        public const double MaxFaultLift = 0.5;

        // What tells a spent quota.

        /// <summary>A call with 90% or more of its events refused found the quota spent (a spent quota refuses everything; a few may pass as its second ends).</summary>
        public const double SpentShare = 0.9;

        /// <summary>Spent calls in a row that tell a spent quota when no fault refusing whole calls is known, or a fault refusing at most <see cref="RunFaultShare"/> of them.</summary>
        public const int SpentRun = 8;

        /// <summary>A fault refusing 18% of calls makes <see cref="SpentRun"/> in a row about once in a million calls (0.18⁸ ≈ 1.1 × 10⁻⁶).</summary>
        public const double RunFaultShare = 0.18;

        /// <summary>Beside a stronger fault, a run tells a spent quota when the fault alone would make it once in a million calls.</summary>
        public const double RunChance = 1e-6;

        /// <summary>The longest run ever asked for: a fault refusing nearly every call leaves too few calls to wait longer.</summary>
        public const int LongestSpentRun = 60;

        /// <summary>Refusals are looked at with at least 2 refused calls and 100 events sent in the last second: fewer tell nothing of a rate.</summary>
        public const int LeastRefusedCalls = 2;

        /// <summary>See <see cref="LeastRefusedCalls"/>.</summary>
        public const int LeastSentToLook = 100;

        /// <summary>Refusals beyond chance are judged over 10 calls or more and half a second or more: fewer make a share too uncertain.</summary>
        public const int ChanceCalls = 10;

        /// <summary>See <see cref="ChanceCalls"/>.</summary>
        public const double ChanceSeconds = 0.5;

        /// <summary>With no fault known, more than 2% refused (beyond chance) looks over the quota: a healthy stream refuses next to nothing.</summary>
        public const double BeyondNoFault = 0.02;

        /// <summary>Beside a known fault, 5 points more than its share: its share is known only roughly.</summary>
        public const double BeyondFault = 0.05;

        /// <summary>The least share chance is reckoned with (1%), so that a small sample's spread is never nought.</summary>
        public const double LeastChanceShare = 0.01;

        /// <summary>Standard deviations that make a share "beyond chance": 2 (about 1 in 40 by chance alone, and a fresh look confirms it).</summary>
        public const double ChanceDeviations = 2;

        /// <summary>A trial's share rising by 2.5 standard deviations says the quota was lowered meanwhile: the decrease is kept.</summary>
        public const double RoseDeviations = 2.5;

        // Looking again and judging a decrease.

        /// <summary>Calls a fresh look and a trial want before they judge: a share from 20 calls is known within a few points.</summary>
        public const int JudgeCalls = 20;

        /// <summary>With fewer calls than this when its time is up, a trial keeps the decrease (too little sent to tell) and a fresh look keeps waiting.</summary>
        public const int FewestCallsToJudge = 5;

        /// <summary>A fresh look lasts 1 s at least (a quota counted per second shows in whole seconds), 4 s with few calls, and gives up after 7 s.</summary>
        public const double LookSeconds = 1;

        /// <summary>See <see cref="LookSeconds"/>.</summary>
        public const double LookSecondsFewCalls = 4;

        /// <summary>See <see cref="LookSeconds"/>; also the longest a trial waits for <see cref="JudgeCalls"/>.</summary>
        public const double GiveUpSeconds = 7;

        /// <summary>A trial judges after 2 s: the quota's spent second is over, and a whole second at the new rate is in.</summary>
        public const double TrialSeconds = 2;

        /// <summary>A decrease after refusals beyond chance goes to 90% at most of what was sent a second, 75% with a tenth or more refused and no fault known (a smaller step could not tell a quota from a fault).</summary>
        public const double ChanceDecrease = 0.9;

        /// <summary>See <see cref="ChanceDecrease"/>.</summary>
        public const double ChanceDecreaseStrong = 0.75;

        /// <summary>See <see cref="ChanceDecrease"/>: the share refused from which the strong step applies.</summary>
        public const double StrongShare = 0.1;

        /// <summary>A rate that grew 10% or more since the last second began is taken back when refusals follow: they are most likely the probe's own.</summary>
        public const double ProbeGrowth = 1.1;

        /// <summary>Below the quota, 5% or more still refused in 3 refused calls or more is a fault's share.</summary>
        public const double FaultShareFound = 0.05;

        /// <summary>See <see cref="FaultShareFound"/>.</summary>
        public const int FaultRefusedCalls = 3;

        /// <summary>An undone decrease keeps the share refused at the lower rate as the fault's when 2% or more.</summary>
        public const double FaultShareKept = 0.02;

        /// <summary>Runs of spent calls tell a quota once 6 calls were spent, in runs of 3 or more on average and 1.5 times as long as the fault's share would make them.</summary>
        public const int LeastSpentCalls = 6;

        /// <summary>See <see cref="LeastSpentCalls"/>.</summary>
        public const double LeastMeanRun = 3;

        /// <summary>See <see cref="LeastSpentCalls"/>.</summary>
        public const double RunLengthOverChance = 1.5;

        // Following a fault, and growing.

        /// <summary>A fault's share is followed from whole seconds of 50 events or more, and both ways only when under 80% of the rate was sent (no quota refused then).</summary>
        public const int FollowSent = 50;

        /// <summary>See <see cref="FollowSent"/>.</summary>
        public const double QuotaMayRefuse = 0.8;

        /// <summary>Each second moves the share a fifth of the way (a tenth when only falling), so a second of chance does not swing it.</summary>
        public const double FollowStep = 0.2;

        /// <summary>See <see cref="FollowStep"/>.</summary>
        public const double FollowStepDown = 0.1;

        /// <summary>A share under 1% is taken as no fault at all.</summary>
        public const double NoFault = 0.01;

        /// <summary>A rate grows only while it holds the stream back: 2 s after it changed, with half of it or more sent in the last second.</summary>
        public const double GrowAfterSeconds = 2;

        /// <summary>See <see cref="GrowAfterSeconds"/>.</summary>
        public const double GrowWhenSent = 0.5;

        /// <summary>Growth starts at 5% a second and doubles with every quiet second after two: a raised quota is found within seconds, an unchanged one probed gently.</summary>
        public const double GrowStart = 0.05;

        /// <summary>At most doubling a second with no fault known; 20% a second beside a fault, whose refusals make a quiet second say less.</summary>
        public const double GrowMost = 1.0;

        /// <summary>See <see cref="GrowMost"/>.</summary>
        public const double GrowMostBesideFault = 0.2;

        /// <summary>Growth steps come a tenth of a second apart at least: the window counts in tenths.</summary>
        public const double GrowEverySeconds = 0.1;

        /// <summary>After a run, the last second's accepted events are the quota's only when the rate was unchanged for more than 1.1 s (a whole second at one rate).</summary>
        public const double SettledSeconds = 1.1;
    }
}
