package cache

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the cache's Prometheus collectors. They exist (unregistered) even without a
// registry, so the hot path never checks for nil.
type metrics struct {
	up        prometheus.Gauge
	errors    prometheus.Counter
	lookups   *prometheus.CounterVec
	published *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		up: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "credo_cache_redis_up",
			Help: "1 when Redis answers and the shared cache is used, 0 when scores are computed without it (or REDIS_URL is empty).",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "credo_cache_redis_errors_total",
			Help: "Redis commands that failed (timeouts, refused connections), each answered without Redis.",
		}),
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credo_cache_lookups_total",
			Help: "Cache lookups by namespace and result: l1 (in-process hit), redis (shared hit), miss (computed or absent).",
		}, []string{"namespace", "result"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "credo_bus_messages_total",
			Help: "Bus messages by direction: published, received, local (delivered on this replica only).",
		}, []string{"direction"}),
	}
	if reg != nil {
		m.up = register(reg, m.up)
		m.errors = register(reg, m.errors)
		m.lookups = register(reg, m.lookups)
		m.published = register(reg, m.published)
	}
	return m
}

// register adds c to reg, or answers the collector already registered under its name, so two
// caches on one registry (tests, a CLI command inside the server) share their series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err) // a different collector under one of our names is a programming error
	}
	return c
}
