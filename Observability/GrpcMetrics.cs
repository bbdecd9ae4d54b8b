using Grpc.Core;
using Wsd.Observability.Metrics;

namespace Wsd.Observability;

/// <summary>
/// The gRPC server metrics: named and labelled as go-grpc-prometheus does
/// (docs/compatibility.md#metric-names) so existing dashboards work, and wsd's own by method and code
/// (latency by code too: a slow failure is a different problem from a slow success).
/// </summary>
public sealed class GrpcMetrics
{
    static readonly double[] HandlingBuckets = [.005, .025, .05, .1, .5, 1, 2.5, 5, 30, 60, 120, 240, 600];

    readonly CounterFamily _started;
    readonly CounterFamily _handled, _wsdHandled;
    readonly HistogramFamily _handling, _wsdHandling;

    public GrpcMetrics(MetricRegistry registry)
    {
        _started = registry.Register(new CounterFamily("grpc_server_started_total",
            "Total number of RPCs started on the server.", "grpc_type", "grpc_service", "grpc_method"));
        _handled = registry.Register(new CounterFamily("grpc_server_handled_total",
            "Total number of RPCs completed on the server, regardless of success or failure.", "grpc_type", "grpc_service", "grpc_method", "grpc_code"));
        _handling = registry.Register(new HistogramFamily("grpc_server_handling_seconds",
            "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.", HandlingBuckets, "grpc_type", "grpc_service", "grpc_method"));
        _wsdHandled = registry.Register(new CounterFamily("wsd_grpc_handled_total",
            "gRPC calls finished, by method (service/method) and status code.", "method", "code"));
        _wsdHandling = registry.Register(new HistogramFamily("wsd_grpc_handling_seconds",
            "gRPC call latency in seconds, by method (service/method) and status code.", HandlingBuckets, "method", "code"));
    }

    public Call Start(string type, string fullMethod)
    {
        // fullMethod is "/package.Service/Method".
        int slash = fullMethod.LastIndexOf('/');
        string service = slash > 1 ? fullMethod[1..slash] : fullMethod;
        string method = slash >= 0 ? fullMethod[(slash + 1)..] : fullMethod;
        _started.WithLabels(type, service, method).Inc();
        return new Call(this, type, service, method);
    }

    public readonly struct Call(GrpcMetrics metrics, string type, string service, string method)
    {
        public void Finish(StatusCode code, TimeSpan elapsed)
        {
            string codeName = CodeName(code);
            metrics._handled.WithLabels(type, service, method, codeName).Inc();
            metrics._handling.WithLabels(type, service, method).Observe(elapsed.TotalSeconds);
            metrics._wsdHandled.WithLabels($"{service}/{method}", codeName).Inc();
            metrics._wsdHandling.WithLabels($"{service}/{method}", codeName).Observe(elapsed.TotalSeconds);
        }
    }

    /// <summary>grpc-go's names for the codes (note "Canceled"), which dashboards filter on.</summary>
    static string CodeName(StatusCode code) => code switch
    {
        StatusCode.OK => "OK",
        StatusCode.Cancelled => "Canceled",
        StatusCode.Unknown => "Unknown",
        StatusCode.InvalidArgument => "InvalidArgument",
        StatusCode.DeadlineExceeded => "DeadlineExceeded",
        StatusCode.NotFound => "NotFound",
        StatusCode.AlreadyExists => "AlreadyExists",
        StatusCode.PermissionDenied => "PermissionDenied",
        StatusCode.ResourceExhausted => "ResourceExhausted",
        StatusCode.FailedPrecondition => "FailedPrecondition",
        StatusCode.Aborted => "Aborted",
        StatusCode.OutOfRange => "OutOfRange",
        StatusCode.Unimplemented => "Unimplemented",
        StatusCode.Internal => "Internal",
        StatusCode.Unavailable => "Unavailable",
        StatusCode.DataLoss => "DataLoss",
        StatusCode.Unauthenticated => "Unauthenticated",
        _ => code.ToString(),
    };
}
