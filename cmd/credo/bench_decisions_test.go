package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDecisions is issue 5's figure: the whole program on a seeded portfolio (500 clients,
// about 28,000 invoices), scores cached, 32 connections posting new quotes as fast as answers come
// back; the load generator runs in the same process, on the same 2 cores. Every decision is in
// the log when it is answered (synchronous commit, batched).
//
//	go test -run '^$' -bench BenchmarkDecisions -benchtime 20000x ./cmd/credo
func BenchmarkDecisions(b *testing.B) {
	env := testEnv(b, map[string]string{"CREDO_LOG_LEVEL": "warn", "CREDO_SANCTIONS_REFRESH": "off", "CREDO_KEY_CACHE_TTL": "60s"})
	// The group commit's settings can be tried from the environment.
	for _, k := range []string{"CREDO_DECISION_WRITERS", "CREDO_DECISION_BATCH", "GOGC"} {
		if v := os.Getenv(k); v != "" {
			env[k] = v
		}
	}
	mustCredo(b, env, "migrate")
	mustCredo(b, env, "seed", "demo", "--clients", "500", "--seed", "5")
	mustCredo(b, env, "sanctions", "load", "--source", "ofac", "--dir", sanctionsData+"/ofac")
	s := startServerEnv(b, env, true)
	var clients []string
	for i := 1; i <= 500; i++ {
		clients = append(clients, fmt.Sprintf("C%05d", i))
	}
	key := s.Keys["sales"]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	post := func(body []byte) (int, []byte, error) {
		req, _ := http.NewRequest("POST", s.URL+"/v1/decisions", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		return resp.StatusCode, out, err
	}
	// Warm the score cache and the policy's per-client state as a day of quotes would: a client
	// state gets its pre-evaluated policy at its third quote, built in the background one at a
	// time, and a state whose build could not start then (another was running) starts it at a
	// later quote. So quote every client until every state is built, and wait for the last builds:
	// the timed quotes then meet the steady state, not the warm-up's builds.
	warmed := func() float64 {
		return scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="built"}`) + scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="fallback"}`)
	}
	for round := 0; round < 3 || (round < 20 && warmed() < float64(len(clients))); round++ {
		for i, c := range clients {
			body, _ := json.Marshal(map[string]any{"quote_id": fmt.Sprintf("warm-%d-%d", round, i), "client_id": c, "amount": 1000, "currency": "EUR", "requested_terms_days": 30})
			if st, out, err := post(body); err != nil || st != http.StatusCreated {
				b.Fatalf("warm-up quote for %s: %d %s %v", c, st, out, err)
			}
		}
		if round >= 2 {
			time.Sleep(time.Second) // the builds started by this round
		}
	}
	for last, stable := -1.0, 0; stable < 3; time.Sleep(500 * time.Millisecond) {
		built := warmed()
		if built == last {
			stable++
		} else {
			stable, last = 0, built
		}
	}
	const conns = 32
	var next atomic.Int64
	lat := make([][]time.Duration, conns)
	evals := make([][]int64, conns)
	outcomes := make([]map[string]int, conns)
	var failed atomic.Int64
	if f := os.Getenv("BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		outcomes[w] = map[string]int{}
		go func(w int) {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				body := fmt.Appendf(nil, `{"quote_id":"bq-%d","client_id":"%s","amount":%d.%02d,"currency":"EUR","requested_terms_days":%d}`,
					n, clients[n%int64(len(clients))], 500+n%9000, n%100, []int{30, 45, 60}[n%3])
				t := time.Now()
				st, out, err := post(body)
				lat[w] = append(lat[w], time.Since(t))
				if err != nil || st != http.StatusCreated {
					failed.Add(1)
					continue
				}
				var d struct {
					Outcome string `json:"outcome"`
					Latency struct {
						Eval int64 `json:"eval_us"`
					} `json:"latency"`
				}
				_ = json.Unmarshal(out, &d)
				outcomes[w][d.Outcome]++
				evals[w] = append(evals[w], d.Latency.Eval)
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	var ev []int64
	total := map[string]int{}
	for w := range lat {
		all = append(all, lat[w]...)
		ev = append(ev, evals[w]...)
		for k, v := range outcomes[w] {
			total[k] += v
		}
	}
	slices.Sort(all)
	slices.Sort(ev)
	if f := failed.Load(); f > 0 {
		b.Errorf("%d of %d decisions failed", f, b.N)
	}
	pct := func(q float64) float64 { return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	if len(ev) > 0 {
		b.ReportMetric(float64(ev[len(ev)/2]), "eval-p50-µs")
	}
	b.Logf("%d decisions in %s: %v", b.N, elapsed.Round(time.Millisecond), total)
	// The server's own view: evaluations by path, batch sizes.
	b.Logf("residual evaluations %.0f, full %.0f, built %.0f, fallbacks %.0f, evicted %.0f; %.1f decisions per commit",
		scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="residual"}`), scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="full"}`),
		scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="built"}`), scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="fallback"}`),
		scrapeMetric(b, s.URL, `credo_policy_residual_total{kind="evicted"}`),
		scrapeMetric(b, s.URL, "credo_decision_batch_size_sum")/scrapeMetric(b, s.URL, "credo_decision_batch_size_count"))
	// Every answered decision is in the log.
	var logged int
	mustQueryRow(b, env["DATABASE_URL"], `SELECT count(*) FROM decisions WHERE quote_id LIKE 'bq-%'`, &logged)
	if logged != b.N-int(failed.Load()) {
		b.Errorf("%d decisions answered, %d logged", b.N-int(failed.Load()), logged)
	}
}

// scrapeMetric reads one sample from the server's /metrics (0 when absent).
func scrapeMetric(tb testing.TB, base, name string) float64 {
	tb.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return 0
}
