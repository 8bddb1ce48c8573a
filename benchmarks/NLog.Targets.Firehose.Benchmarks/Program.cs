using System;
using BenchmarkDotNet.Running;

namespace NLog.Targets.Firehose.Benchmarks
{
    /// <summary>
    /// <c>dotnet run -c Release --project benchmarks/NLog.Targets.Firehose.Benchmarks -- --filter '*'</c> runs every
    /// benchmark; <c>-- cost</c> prints the billed-units table; <c>-- compare</c> the efficiency comparison
    /// against NLog's own asynchronous wrapper (<see cref="Compare"/>); <c>-- process</c> one whole-process run
    /// (<see cref="ProcessRun"/>); <c>-- web</c> the web-service benchmark (<see cref="WebServiceRun"/>).
    /// </summary>
    public static class Program
    {
        public static void Main(string[] args)
        {
            Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
            Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", StandIn.FirehoseStandIn.DefaultAccessKey);
            Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", StandIn.FirehoseStandIn.DefaultSecretKey);
            if (args.Length > 0 && args[0] == "cost")
            {
                CostReport.Print(Console.Out);
                return;
            }
            if (args.Length > 0 && args[0] == "serve")
            {
                StandInProcess.Serve(Console.In, Console.Out);
                return;
            }
            if (args.Length > 2 && args[0] == "process")
            {
                ProcessRun.Run(Console.Out, args);
                return;
            }
            if (args.Length > 3 && args[0] == "app")
            {
                ProcessRun.App(Console.Out, args);
                return;
            }
            if (args.Length > 0 && args[0] == "web")
            {
                WebServiceRun.Run(Console.Out, args);
                return;
            }
            if (args.Length > 3 && args[0] == "web-app")
            {
                WebServiceApp.Run(Console.Out, Console.In, args);
                return;
            }
            if (args.Length > 0 && args[0] == "compare")
            {
                Compare.Print(Console.Out, args);
                return;
            }
            if (args.Length > 1 && args[0] == "throughput")
            {
                Throughput.Print(Console.Out, int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));
                return;
            }
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        }
    }
}
