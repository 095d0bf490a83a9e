//! Prometheus metrics: issuances, replays, key conflicts, unavailable answers, latency, device
//! reports.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels: the API (`paygops`, `v1`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ApiLabel {
    /// `paygops` or `v1`.
    pub api: String,
}

/// Labels: route and status.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The matched route.
    pub route: String,
}

/// Labels: a device report's outcome and, when refused, why.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReportLabel {
    /// `accepted` or `refused`.
    pub outcome: String,
    /// The refusal's code (`INVALID_AUTHENTICATION`…), empty when accepted.
    pub reason: String,
}

/// The service's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Tokens issued (new issuances).
    pub issuances: Family<ApiLabel, Counter>,
    /// Requests answered from a stored response.
    pub replays: Family<ApiLabel, Counter>,
    /// Keys re-sent with a different request.
    pub conflicts: Family<ApiLabel, Counter>,
    /// Answers 503 because the database was unreachable.
    pub unavailable: Counter,
    /// Request latency in seconds.
    pub latency: Family<RouteLabel, Histogram>,
    /// Device reports (`POST /dd`) accepted and refused.
    pub reports: Family<ReportLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("paylock");
        let issuances = Family::<ApiLabel, Counter>::default();
        let replays = Family::<ApiLabel, Counter>::default();
        let conflicts = Family::<ApiLabel, Counter>::default();
        let unavailable = Counter::default();
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 14))
        });
        registry.register("issuances", "Tokens issued", issuances.clone());
        registry.register(
            "replays",
            "Requests answered from a stored response",
            replays.clone(),
        );
        registry.register(
            "idempotency_conflicts",
            "Idempotency keys re-sent with a different request",
            conflicts.clone(),
        );
        registry.register(
            "database_unavailable",
            "Requests answered 503 while the database was unreachable",
            unavailable.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Request latency",
            latency.clone(),
        );
        let reports = Family::<ReportLabel, Counter>::default();
        registry.register(
            "device_reports",
            "Device reports (POST /dd) accepted or refused",
            reports.clone(),
        );
        Self {
            registry,
            issuances,
            replays,
            conflicts,
            unavailable,
            latency,
            reports,
        }
    }
}

impl Metrics {
    /// The text exposition format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Labels for `api`.
    #[must_use]
    pub fn api(api: &str) -> ApiLabel {
        ApiLabel {
            api: api.to_owned(),
        }
    }
}
