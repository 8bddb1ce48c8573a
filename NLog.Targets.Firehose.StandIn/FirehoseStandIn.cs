using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace NLog.Targets.Firehose.StandIn;

/// <summary>
/// A Firehose PutRecordBatch endpoint on loopback (Kestrel). It checks what a real endpoint checks (SigV4 signature
/// and credential scope, the JSON body, the service limits, that the stream exists), stores what it accepts, and
/// injects faults on command (<see cref="Faults"/>). Protocol mistakes by the client are also listed in
/// <see cref="Violations"/> so tests can assert there were none.
/// </summary>
public sealed partial class FirehoseStandIn : IAsyncDisposable
{
    /// <summary>The service limit on records per call.</summary>
    public const int MaxRecordsPerCall = 500;

    /// <summary>The service limit on one record's data, before base64.</summary>
    public const int MaxRecordBytes = 1_024_000;

    /// <summary>The service limit on one call's data: 4 MiB.</summary>
    public const int MaxBytesPerCall = 4 * 1024 * 1024;

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<byte[]>> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _credentials = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _sessionTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<StsCall> _stsCalls = new();
    private readonly ConcurrentDictionary<string, bool> _deniedRoles = new(StringComparer.Ordinal);
    private int _issued;
    private readonly ConcurrentQueue<(string?, string?, string?)> _ssoCalls = new();
    private int _describeCalls;
    private readonly TaskCompletionSource _firstDescribe = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, (string Status, string Type)> _streamStates = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _violations = new();
    private readonly ConcurrentDictionary<string, QuotaWindow> _quotaWindows = new(StringComparer.Ordinal);
    private long _quotaRefused;

    /// <summary>Records refused so far because they were over the stream's quota (<see cref="StandInFaults.QuotaRecordsPerSecond"/>).</summary>
    public long QuotaRefusedRecords => Interlocked.Read(ref _quotaRefused);

    /// <summary>A stream's use of its quota in the current second.</summary>
    private sealed class QuotaWindow
    {
        public long Second;
        public long Records;
        public long Bytes;
    }
    private readonly ConcurrentQueue<CallRecord> _calls = new();
    private readonly ConcurrentQueue<string> _signingRegions = new();
    private readonly Random _random;
    private readonly object _randomLock = new();
    private long _requests;
    private readonly int _instance = Random.Shared.Next(); // record ids differ between stand-ins
    private long _recordsStoredThenDropped;
    private int _inFlight;
    private int _maxInFlight;
    private readonly object _inFlightLock = new();
    private readonly List<(int Count, TaskCompletionSource Reached)> _inFlightWaiters = new();
    private readonly ConcurrentQueue<byte[]> _storedThenDropped = new();

    private FirehoseStandIn(WebApplication app, int seed)
    {
        _app = app;
        _random = new Random(seed);
    }

    /// <summary>The access key the stand-in accepts by default.</summary>
    public const string DefaultAccessKey = "AKIASTANDIN000000001";

    /// <summary>The secret of <see cref="DefaultAccessKey"/>.</summary>
    public const string DefaultSecretKey = "standin/secret/key/0000000000000000000000";

    /// <summary>The endpoint URL, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Faults to inject.</summary>
    public StandInFaults Faults { get; } = new();

    /// <summary>When set, every signature's credential scope must name this region.</summary>
    public string? ExpectedRegion { get; set; }

    /// <summary>When true, a call to a stream that was never created creates it (default false: <c>ResourceNotFoundException</c>).</summary>
    public bool AutoCreateStreams { get; set; }

    /// <summary>Protocol mistakes seen (bad signature, limits exceeded, malformed body…).</summary>
    public IReadOnlyCollection<string> Violations => _violations.ToArray();

    /// <summary>Every PutRecordBatch call that reached the handler, in arrival order.</summary>
    public IReadOnlyCollection<CallRecord> Calls => _calls.ToArray();

    /// <summary>The region of each signed request's credential scope, in arrival order.</summary>
    public IReadOnlyCollection<string> SigningRegions => _signingRegions.ToArray();

    /// <summary>Raised when a request arrives, before it is answered (with the running request count).</summary>
    public event Action<long>? RequestReceived;

    /// <summary>
    /// Records stored by calls whose connection was then dropped (<see cref="StandInFaults.DropAfterProcessingRate"/>) or whose client
    /// gave up waiting for the answer (<see cref="StandInFaults.SlowAfterProcessingRate"/>):
    /// the client cannot know they arrived, so it sends them again. Exactly this many duplicates are expected.
    /// </summary>
    public long RecordsStoredThenDropped => Interlocked.Read(ref _recordsStoredThenDropped);

    /// <summary>The records behind <see cref="RecordsStoredThenDropped"/>: each one the client must send again.</summary>
    public IReadOnlyCollection<byte[]> StoredThenDroppedRecords => _storedThenDropped.ToArray();

    /// <summary>HTTP requests received, including rejected and dropped ones.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Trace-context headers seen on any request (W3C, B3, the older Request-Id): a logging target must carry none.</summary>
    public IReadOnlyCollection<string> TraceHeadersSeen => _traceHeadersSeen.ToArray();

    private static readonly string[] TraceHeaderNames = { "traceparent", "tracestate", "baggage", "Request-Id", "Correlation-Context", "b3", "X-B3-TraceId" };
    private readonly ConcurrentQueue<string> _traceHeadersSeen = new();

    /// <summary>
    /// Starts a stand-in on 127.0.0.1 on a free port (or <paramref name="port"/>); over TLS (https) with
    /// <paramref name="certificate"/> when given.
    /// </summary>
    public static async Task<FirehoseStandIn> StartAsync(int port = 0, int seed = 12345, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (certificate != null)
            builder.WebHost.UseKestrelHttpsConfiguration(); // the slim builder leaves HTTPS out
        builder.WebHost.UseKestrel(options =>
        {
            options.Listen(IPAddress.Loopback, port, listen =>
            {
                if (certificate != null)
                    listen.UseHttps(certificate);
            });
            options.Limits.MaxRequestBodySize = 16 * 1024 * 1024;
        });
        var app = builder.Build();
        var standIn = new FirehoseStandIn(app, seed);
        standIn._credentials[DefaultAccessKey] = DefaultSecretKey;
        app.MapPost("/", standIn.HandleAsync);
        app.MapGet("/federation/credentials", standIn.HandleSsoAsync);
        await app.StartAsync().ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        standIn.Url = new Uri(address.TrimEnd('/') + "/");
        return standIn;
    }

    /// <summary>
    /// Points this process's standard AWS variables at the stand-in: <c>AWS_ENDPOINT_URL_FIREHOSE</c>, <c>AWS_REGION</c>
    /// and the stand-in's keys (no session token, no instance metadata), as the examples do.
    /// </summary>
    public void SetAwsEnvironment(string region = "us-east-1")
    {
        Environment.SetEnvironmentVariable("AWS_ENDPOINT_URL_FIREHOSE", Url.ToString());
        Environment.SetEnvironmentVariable("AWS_REGION", region);
        Environment.SetEnvironmentVariable("AWS_ACCESS_KEY_ID", DefaultAccessKey);
        Environment.SetEnvironmentVariable("AWS_SECRET_ACCESS_KEY", DefaultSecretKey);
        Environment.SetEnvironmentVariable("AWS_SESSION_TOKEN", null);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }

    /// <summary>Creates a delivery stream (idempotent).</summary>
    public void CreateStream(string name) => _streams.GetOrAdd(name, _ => new ConcurrentQueue<byte[]>());

    /// <summary>Deletes a delivery stream and what it held.</summary>
    public void DeleteStream(string name) => _streams.TryRemove(name, out _);

    /// <summary>Forgets the records and calls seen so far (long benchmark runs).</summary>
    public void ClearRecords()
    {
        foreach (var queue in _streams.Values)
            queue.Clear();
        _calls.Clear();
    }

    /// <summary>Accepts another access key.</summary>
    public void AddCredentials(string accessKey, string secretKey) => _credentials[accessKey] = secretKey;

    /// <summary>The records a stream accepted, in order.</summary>
    public IReadOnlyList<byte[]> Records(string stream) => _streams.TryGetValue(stream, out var q) ? q.ToArray() : Array.Empty<byte[]>();

    /// <summary>How many records all streams accepted.</summary>
    public long TotalRecords => _streams.Values.Sum(q => (long)q.Count);

    /// <summary>
    /// How long credentials issued by the stand-in's STS and SSO portal are valid (their answer's expiration).
    /// </summary>
    public TimeSpan IssuedCredentialsLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>What DescribeDeliveryStream reports for a stream (default: ACTIVE, DirectPut).</summary>
    public void SetStreamState(string name, string status, string type) => _streamStates[name] = (status, type);

    /// <summary>DescribeDeliveryStream calls seen.</summary>
    public int DescribeCalls => _describeCalls;

    /// <summary>Completes when the first DescribeDeliveryStream call arrives (a signal for tests).</summary>
    public Task FirstDescribe => _firstDescribe.Task;

    /// <summary>How long DescribeDeliveryStream takes to answer.</summary>
    public TimeSpan DescribeDelay { get; set; }

    /// <summary>An error DescribeDeliveryStream answers with (status, code), e.g. (400, "AccessDeniedException"); null: none.</summary>
    public (int Status, string Code)? DescribeError { get; set; }

    /// <summary>The access token IAM Identity Center (SSO) accepts in GetRoleCredentials (what <c>aws sso login</c> caches).</summary>
    public string SsoAccessToken { get; set; } = "standin-sso-access-token";

    /// <summary>GetRoleCredentials calls seen: account, role, and the access key issued (null when refused).</summary>
    public IReadOnlyCollection<(string? AccountId, string? RoleName, string? IssuedAccessKey)> SsoCalls => _ssoCalls.ToArray();

    /// <summary>Makes AssumeRole of <paramref name="roleArn"/> fail with AccessDenied (a trust policy that does not allow the caller).</summary>
    public void DenyRole(string roleArn) => _deniedRoles[roleArn] = true;

    /// <summary>The STS calls seen (AssumeRole, AssumeRoleWithWebIdentity), in order.</summary>
    public IReadOnlyCollection<StsCall> StsCalls => _stsCalls.ToArray();

    /// <summary>
    /// One STS call: the action, its parameters, the access key that signed it (none for AssumeRoleWithWebIdentity, which
    /// is not signed) and the temporary access key issued.
    /// </summary>
    public sealed record StsCall(string Action, string? RoleArn, string? RoleSessionName, string? ExternalId, string? WebIdentityToken, string? SignedBy, string? IssuedAccessKey);

    /// <summary>One call as the stand-in saw it.</summary>
    public sealed record CallRecord(string Stream, int Records, long DataBytes, int Status, string Outcome, string AccessKey, string UserAgent, string? SessionToken = null);

    private double NextRandom()
    {
        lock (_randomLock)
            return _random.NextDouble();
    }

    private async Task HandleAsync(HttpContext context)
    {
        int inFlight = Interlocked.Increment(ref _inFlight);
        lock (_inFlightLock)
        {
            if (inFlight > _maxInFlight)
                _maxInFlight = inFlight;
            foreach (var waiter in _inFlightWaiters.Where(w => w.Count <= inFlight).ToList())
            {
                waiter.Reached.TrySetResult();
                _inFlightWaiters.Remove(waiter);
            }
        }
        try
        {
            await HandleOneAsync(context).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>The most requests that were being handled at once.</summary>
    public int MaxConcurrentRequests
    {
        get
        {
            lock (_inFlightLock)
                return _maxInFlight;
        }
    }

    /// <summary>Completes once <paramref name="count"/> requests are being handled at the same time (a signal for tests).</summary>
    public Task WhenInFlight(int count)
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_inFlightLock)
        {
            if (Volatile.Read(ref _inFlight) >= count)
                return Task.CompletedTask;
            _inFlightWaiters.Add((count, reached));
        }
        return reached.Task;
    }

    /// <summary>
    /// The body, read into one array of its declared length when it declares one. (Cheap on purpose: where the
    /// stand-in shares a machine of few cores with the application the benchmarks measure, its CPU competes.)
    /// </summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is long length && length >= 0 && length <= 16 * 1024 * 1024) // larger declared lengths: read as they come
        {
            byte[] body = new byte[length];
            int read = 0;
            while (read < body.Length)
            {
                int n = await request.Body.ReadAsync(body.AsMemory(read)).ConfigureAwait(false);
                if (n == 0)
                    return body.AsSpan(0, read).ToArray(); // shorter than declared: what came
                read += n;
            }
            return body;
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>A record id unique within this stand-in, 32 hex digits as the stand-in always gave (no random number per record).</summary>
    private string RecordId(long requestNumber, int entry) =>
        string.Create(32, (_instance, requestNumber, entry), static (chars, state) =>
        {
            state._instance.TryFormat(chars.Slice(0, 8), out _, "x8", System.Globalization.CultureInfo.InvariantCulture);
            state.requestNumber.TryFormat(chars.Slice(8, 16), out _, "x16", System.Globalization.CultureInfo.InvariantCulture);
            state.entry.TryFormat(chars.Slice(24, 8), out _, "x8", System.Globalization.CultureInfo.InvariantCulture);
        });

    private async Task HandleOneAsync(HttpContext context)
    {
        long requestNumber = Interlocked.Increment(ref _requests);
        RequestReceived?.Invoke(requestNumber);
        var request = context.Request;
        foreach (string name in TraceHeaderNames)
        {
            if (request.Headers.ContainsKey(name))
                _traceHeadersSeen.Enqueue(name);
        }
        byte[] body = await ReadBodyAsync(request).ConfigureAwait(false);

        var faults = Faults;
        if (faults.ResponseDelay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(faults.ResponseDelay, context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the client gave up (or was killed) while the call was held
            }
        }
        if (faults.Hold is { } hold)
        {
            try
            {
                await hold.WaitAsync(context.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the client gave up (or closed) while the call was held
            }
        }
        if (context.RequestAborted.IsCancellationRequested)
            return; // the client gave up before the service looked at the call: nothing stored

        if (request.HasFormContentType)
        {
            await HandleStsAsync(context, body).ConfigureAwait(false); // STS (Query protocol): AssumeRole, AssumeRoleWithWebIdentity
            return;
        }

        string? target = request.Headers["X-Amz-Target"].FirstOrDefault();
        if (target == "Firehose_20150804.DescribeDeliveryStream")
        {
            await DescribeAsync(context, body).ConfigureAwait(false);
            return;
        }
        if (target != "Firehose_20150804.PutRecordBatch")
        {
            await ErrorAsync(context, 400, "UnknownOperationException", $"Unknown target '{target}'").ConfigureAwait(false);
            return;
        }
        await PutRecordBatchAsync(context, body, requestNumber, faults).ConfigureAwait(false);
    }

    private bool Chance(double rate) => rate > 0 && NextRandom() < rate;

    private void Violation(string message) => _violations.Enqueue(message);

    private async Task ErrorAsync(HttpContext context, int status, string code, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/x-amz-json-1.1";
        context.Response.Headers["x-amzn-RequestId"] = Guid.NewGuid().ToString();
        context.Response.Headers["X-Amzn-ErrorType"] = code + ":http://internal.amazon.com/coral/com.amazonaws.firehose/";
        context.Response.Headers.Date = (DateTime.UtcNow + Faults.ClockOffset).ToString("R");
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["__type"] = code, ["message"] = message });
        await context.Response.Body.WriteAsync(json).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
