package sidecar

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dockerkamal/docker-kamal/pkg/contract"
)

// Result label values.
const (
	resultOK     = "ok"
	resultFailed = "failed"
)

// Metrics are the sidecar's Prometheus metrics, on a registry of their own.
type Metrics struct {
	reg *prometheus.Registry

	deploys        *prometheus.CounterVec
	rollbacks      *prometheus.CounterVec
	stepDuration   *prometheus.HistogramVec
	cutover        prometheus.Histogram
	healthFailures *prometheus.CounterVec
	liveVersion    *prometheus.GaugeVec
	reconciles     *prometheus.CounterVec

	mu   sync.Mutex
	live map[contract.Role]string
}

// NewMetrics registers the sidecar's metrics, with sidecarVersion as a
// build-info gauge.
func NewMetrics(sidecarVersion string) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		deploys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamal_deploys_total", Help: "Deploys (apply) on this host by result.",
		}, []string{"result"}),
		rollbacks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamal_rollbacks_total", Help: "Rollbacks on this host by result.",
		}, []string{"result"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kamal_swap_step_duration_seconds",
			Help:    "Duration of each swap step.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"step", "result"}),
		cutover: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kamal_cutover_seconds",
			Help:    "Time from green healthy to Traefik serving green.",
			Buckets: []float64{.025, .05, .1, .2, .3, .5, 1, 2, 5},
		}),
		healthFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamal_health_check_failures_total", Help: "New containers that never became healthy, by role.",
		}, []string{"service", "destination", "role"}),
		liveVersion: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kamal_live_version_info", Help: "1 for the version Traefik routes to, by role.",
		}, []string{"service", "destination", "role", "version"}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kamal_reconciles_total", Help: "Start-up reconciliations by outcome.",
		}, []string{"outcome"}),
		live: map[contract.Role]string{},
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "kamal_sidecar_build_info", Help: "The sidecar's build version.",
	}, []string{"version"})
	info.WithLabelValues(sidecarVersion).Set(1)
	m.reg.MustRegister(m.deploys, m.rollbacks, m.stepDuration, m.cutover, m.healthFailures, m.liveVersion,
		m.reconciles, info, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, r := range []string{resultOK, resultFailed} {
		m.deploys.WithLabelValues(r)
		m.rollbacks.WithLabelValues(r)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry is the registry the metrics live on (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Swap counts one finished deploy or rollback.
func (m *Metrics) Swap(action string, ok bool) {
	r := resultFailed
	if ok {
		r = resultOK
	}
	if action == actionRollback {
		m.rollbacks.WithLabelValues(r).Inc()
		return
	}
	m.deploys.WithLabelValues(r).Inc()
}

// Step records a finished swap step's duration.
func (m *Metrics) Step(step string, ok bool, d time.Duration) {
	r := resultFailed
	if ok {
		r = resultOK
	}
	m.stepDuration.WithLabelValues(step, r).Observe(d.Seconds())
}

// Cutover records the green-healthy-to-serving latency.
func (m *Metrics) Cutover(d time.Duration) { m.cutover.Observe(d.Seconds()) }

// HealthFailure counts a container of role that never became healthy.
func (m *Metrics) HealthFailure(r contract.Role) {
	m.healthFailures.WithLabelValues(r.Service, r.Destination, r.Role).Inc()
}

// Reconciled counts a start-up reconciliation outcome.
func (m *Metrics) Reconciled(outcome string) { m.reconciles.WithLabelValues(outcome).Inc() }

// Live sets the role's live version (empty: none), replacing the previous
// series so exactly one version per role reads 1.
func (m *Metrics) Live(r contract.Role, version string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.live[r]; ok {
		if old == version {
			return
		}
		m.liveVersion.DeleteLabelValues(r.Service, r.Destination, r.Role, old)
		delete(m.live, r)
	}
	if version == "" {
		return
	}
	m.liveVersion.WithLabelValues(r.Service, r.Destination, r.Role, version).Set(1)
	m.live[r] = version
}
