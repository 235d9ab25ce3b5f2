package solvency

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// MustReadTestdata returns a fixture's bytes.
func MustReadTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// MustDate parses YYYY-MM-DD.
func MustDate(t testing.TB, s string) ledger.Date {
	t.Helper()
	d, err := ledger.ParseDate(s)
	if err != nil {
		t.Fatalf("date %q: %v", s, err)
	}
	return d
}

// MustServer starts an httptest server closed at the end of the test.
func MustServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// MustLoadExampleMapping reads the deploy example mapping, which the tests use as the bureau scale.
func MustLoadExampleMapping(t testing.TB) *Mapping {
	t.Helper()
	m, err := LoadMapping(filepath.Join("..", "..", "deploy", "bureau-mapping.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fastOptions are HTTP options in milliseconds, so failure tests run fast.
func fastOptions() HTTPOptions {
	return HTTPOptions{
		Timeout:       100 * time.Millisecond,
		MaxAttempts:   3,
		MaxTotal:      2 * time.Second,
		BaseBackoff:   time.Millisecond,
		MaxBackoff:    5 * time.Millisecond,
		MaxRetryAfter: 2 * time.Second,
		MaxBody:       1 << 20,
		Breaker:       BreakerOptions{Failures: 100, CoolDown: time.Minute},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// writeJSON answers a fixture the way the providers do.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// hits counts requests to a test server.
type hits struct {
	mu    sync.Mutex
	n     int
	times []time.Time
}

func (h *hits) add() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n++
	h.times = append(h.times, time.Now())
	return h.n
}

func (h *hits) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

func ptr[T any](v T) *T { return &v }

func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func bufioReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }
