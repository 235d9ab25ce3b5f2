package solvency

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// sireneOK answers the active-company fixture.
func sireneOK(t *testing.T, w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, MustReadTestdata(t, "sirene_active.json"))
}

// sleepOrGone waits d or until the client gives up, so a timed-out test server frees its handler.
func sleepOrGone(r *http.Request, d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.Context().Done():
	}
}

func TestFetchFailures(t *testing.T) {
	company := Company{ClientID: "C-1", RegistrationID: "904123783"}
	tests := []struct {
		name     string
		handler  func(t *testing.T, n int, w http.ResponseWriter, r *http.Request)
		opts     func(o *HTTPOptions)
		wantErr  error // nil: success expected
		status   int   // FetchError status
		attempts int
	}{
		{name: "timeout then success", attempts: 2, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				sleepOrGone(r, time.Second)
				return
			}
			sireneOK(t, w)
		}},
		{name: "timeout every time", attempts: 3, wantErr: context.DeadlineExceeded, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			sleepOrGone(r, time.Second)
		}},
		{name: "500 then success", attempts: 2, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				writeJSON(w, http.StatusInternalServerError, []byte(`{"header":{"statut":500,"message":"Erreur interne"}}`))
				return
			}
			sireneOK(t, w)
		}},
		{name: "502 every time", attempts: 3, status: 502, wantErr: errAny, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
		}},
		{name: "429 with a Retry-After beyond the cap", attempts: 1, status: 429, wantErr: ErrRateLimited, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
		}},
		{name: "429 every time", attempts: 3, status: 429, wantErr: ErrRateLimited, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTooManyRequests)
		}},
		{name: "malformed JSON", attempts: 1, status: 200, wantErr: ErrMalformed, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, []byte(`{"header":{"statut":200},"uniteLegale":{"siren":"904123783",`))
		}},
		{name: "endless body", attempts: 1, status: 200, wantErr: ErrTooLarge, opts: func(o *HTTPOptions) { o.MaxBody = 64 << 10 },
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"uniteLegale":{"siren":"`))
				chunk := []byte(strings.Repeat("9", 4096))
				for r.Context().Err() == nil {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			}},
		{name: "wrong content type", attempts: 1, status: 200, wantErr: ErrMalformed, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(`<html><body>Maintenance en cours</body></html>`))
		}},
		{name: "400 is not retried", attempts: 1, status: 400, wantErr: errAny, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusBadRequest, []byte(`{"header":{"statut":400,"message":"Paramètre incorrect"}}`))
		}},
		{name: "403 is not retried", attempts: 1, status: 403, wantErr: errAny, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusForbidden)
		}},
		{name: "connection cut mid-body then success", attempts: 2, handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Length", "5000")
				_, _ = w.Write([]byte(`{"uniteLegale":`))
				conn, _, err := w.(http.Hijacker).Hijack()
				if err == nil {
					conn.Close()
				}
				return
			}
			sireneOK(t, w)
		}},
		{name: "total time cap ends the retries", status: 500, wantErr: errAny,
			opts: func(o *HTTPOptions) {
				o.MaxAttempts, o.BaseBackoff, o.MaxBackoff, o.MaxTotal = 10000, 10*time.Millisecond, 10*time.Millisecond, 150*time.Millisecond
			},
			handler: func(t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusInternalServerError)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h hits
			srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { tt.handler(t, h.add(), w, r) })
			opts := fastOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			var outcomes []string
			var mu sync.Mutex
			opts.Hooks.OnFetch = func(p, outcome string, _ time.Duration) {
				mu.Lock()
				outcomes = append(outcomes, p+":"+outcome)
				mu.Unlock()
			}
			s, _ := NewSIRENE(srv.URL, "k", 6000, opts)
			snap, err := s.Fetch(context.Background(), company)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if snap.CompanyStatus != StatusActive {
					t.Errorf("snapshot = %+v", snap)
				}
			} else {
				var fe *FetchError
				if !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a *FetchError", err)
				}
				if tt.wantErr != errAny && !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if fe.Status != tt.status {
					t.Errorf("status %d, want %d", fe.Status, tt.status)
				}
				if fe.Attempts != h.count() {
					t.Errorf("error says %d attempts, server saw %d", fe.Attempts, h.count())
				}
			}
			if tt.attempts > 0 && h.count() != tt.attempts {
				t.Errorf("%d attempts, want %d", h.count(), tt.attempts)
			}
			if tt.attempts == 0 && (h.count() < 2 || h.count() >= 10000) {
				t.Errorf("%d attempts: the total cap did not bound the retries", h.count())
			}
			want := "sirene:ok"
			if tt.wantErr != nil {
				want = "sirene:error"
			}
			if len(outcomes) != 1 || outcomes[0] != want {
				t.Errorf("OnFetch outcomes %q, want [%s]", outcomes, want)
			}
		})
	}
}

// errAny marks a case where any *FetchError will do.
var errAny = errors.New("any")

func TestFetchHonoursRetryAfter(t *testing.T) {
	var h hits
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		if h.add() == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		sireneOK(t, w)
	})
	s, _ := NewSIRENE(srv.URL, "k", 6000, fastOptions())
	if _, err := s.Fetch(context.Background(), Company{ClientID: "C-1", RegistrationID: "904123783"}); err != nil {
		t.Fatal(err)
	}
	if h.count() != 2 {
		t.Fatalf("%d attempts, want 2", h.count())
	}
	// The backoff alone is milliseconds; only Retry-After explains a pause of a second.
	if gap := h.times[1].Sub(h.times[0]); gap < 900*time.Millisecond {
		t.Errorf("retried after %s, before the 1 s the provider asked for", gap)
	}
}

func TestFetchConnectionRefusedIsRetried(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var attempts []int
	opts := fastOptions()
	opts.Hooks.OnAttempt = func(_ string, status int, err error) { attempts = append(attempts, status) }
	s, _ := NewSIRENE("http://"+addr, "k", 6000, opts)
	_, err = s.Fetch(context.Background(), Company{ClientID: "C-1", RegistrationID: "904123783"})
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Attempts != 3 || fe.Status != 0 || len(attempts) != 3 {
		t.Fatalf("err = %v, attempts hook %v; want 3 network failures", err, attempts)
	}
}

func TestFetchCallerCancellationIsNoVerdict(t *testing.T) {
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) { sleepOrGone(r, time.Second) })
	opts := fastOptions()
	opts.Timeout = time.Second
	opts.Breaker = BreakerOptions{Failures: 1, CoolDown: time.Hour}
	s, _ := NewSIRENE(srv.URL, "k", 6000, opts)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := s.Fetch(ctx, Company{ClientID: "C-1", RegistrationID: "904123783"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if s.BreakerState() != BreakerClosed {
		t.Errorf("breaker %s: a caller giving up is not the provider failing", s.BreakerState())
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-5", 0},
		{"7", 7 * time.Second},
		{" 30 ", 30 * time.Second},
		{"Sat, 01 Mar 2025 12:00:45 GMT", 45 * time.Second},
		{"Sat, 01 Mar 2025 11:59:00 GMT", 0},
		{"soon", 0},
		{"99999999999", 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCheckJSONContentType(t *testing.T) {
	for ct, ok := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, "application/problem+json": true,
		"text/html": false, "": false, "application/xml": false, "text/json": false,
	} {
		if err := checkJSONContentType(ct); (err == nil) != ok {
			t.Errorf("%q: err = %v", ct, err)
		}
	}
}

func TestLongRetryAfterOn503EndsRetries(t *testing.T) {
	var h hits
	srv := MustServer(t, func(w http.ResponseWriter, r *http.Request) {
		h.add()
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	s, _ := NewSIRENE(srv.URL, "k", 6000, fastOptions())
	_, err := s.Fetch(context.Background(), Company{ClientID: "C-1", RegistrationID: "904123783"})
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Status != 503 || h.count() != 1 || errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "Retry-After") {
		t.Fatalf("err = %v after %d attempts", err, h.count())
	}
}
