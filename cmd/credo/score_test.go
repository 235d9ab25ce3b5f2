package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/cache/redistest"
	"github.com/credorisk/credo/models"
)

func TestScoreCommand(t *testing.T) {
	s := startServer(t, nil)
	scoreLedger(t, s)

	out := mustCredo(t, s.env, "score", "--all")
	for _, want := range []string{
		fmt.Sprintf("scored 3 clients as of %s with model 2026.1 in ", scoreDay(0)),
		"class  clients  share", "    A        0   0.0%", "    C        1  33.3%", "    D        1  33.3%", "    E        1  33.3%",
		"history rows added: 3 (first scores with this model: 3)", "class changes: 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("score --all: no %q in\n%s", want, out)
		}
	}
	if out := mustCredo(t, s.env, "score", "--all"); !strings.Contains(out, "history rows added: 0 (first scores with this model: 0)") {
		t.Errorf("second score --all:\n%s", out)
	}
	s.expect(http.StatusCreated, req{Method: "PUT", Path: "/v1/payments/P2", Key: s.Keys["ingest"], Body: map[string]any{
		"client_id": "ACME", "date": scoreDay(0), "amount": 2000, "currency": "EUR",
		"allocations": []map[string]any{{"invoice_id": "A2", "amount": 2000}}}})
	out = mustCredo(t, s.env, "score", "--all")
	for _, want := range []string{"    D        2  66.7%", "    E        0   0.0%", "history rows added: 1 (first scores with this model: 0)",
		"class changes: 1\n  E -> D  1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("score --all after ACME's payment: no %q in\n%s", want, out)
		}
	}

	// One client's explanation: the lines add up to the score printed.
	out = mustCredo(t, s.env, "score", "--client", "BETA")
	if !strings.HasPrefix(out, "client BETA: score 554, class D, PD ") {
		t.Errorf("score --client BETA:\n%s", out)
	}
	line := regexp.MustCompile(`(?m)^(\w+)\s+(\S+)\s+(.+?)\s+(-?\d+)\s+(\d+)$`)
	sum, lines := 0, 0
	for _, m := range line.FindAllStringSubmatch(out, -1) {
		pts, _ := strconv.Atoi(m[4])
		if m[1] == "total" {
			if pts != sum || pts != 554 {
				t.Errorf("total %d, lines add up to %d", pts, sum)
			}
			continue
		}
		sum += pts
		lines++
	}
	for _, want := range []string{`(?m)^max_days_overdue\s+10\s+1 to 15 days\s+87\s+95$`, `(?m)^overdue_rate\s+1\s+70% or more\s+20\s+60$`,
		`odds = 50 x 2\^\(\(554 - 600\) / 20\) = 10\.1532; PD = 1 / \(1 \+ odds\) = 0\.08966073`,
		`reasons \(points lost\):\n\s+OVERDUE_SHARE\s+-40  100% of open receivables are overdue\n`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("score --client BETA: no %s in\n%s", want, out)
		}
	}
	if lines != 12 {
		t.Errorf("%d characteristic lines in\n%s", lines, out)
	}
	if out := mustCredo(t, s.env, "score", "--client", "BETA", "--lang", "fr", "--refresh"); !strings.Contains(out, "100 % de l'encours est échu") {
		t.Errorf("French reasons:\n%s", out)
	}

	for _, args := range [][]string{{"score"}, {"score", "--all", "--client", "X"}, {"score", "--client", "X", "--lang", "de"}, {"score", "--all", "--refresh"}} {
		if _, err := credoCmd(t, s.env, args...); err == nil || exitCode(err) != 2 {
			t.Errorf("credo %v: %v, want a usage error", args, err)
		}
	}
	if _, err := credoCmd(t, s.env, "score", "--client", "NOPE"); err == nil || !strings.Contains(err.Error(), `client "NOPE" not found`) {
		t.Errorf("unknown client: %v", err)
	}
}

// TestScoreModelRefused: a broken model file or an unknown CREDO_MODEL stops serve at start with
// a message naming the file and line (or the versions available).
func TestScoreModelRefused(t *testing.T) {
	src, err := models.FS.ReadFile("scorecard-2026.1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	good := "{from: 1, below: 6, points: 102"
	i := strings.Index(string(src), good)
	if i < 0 {
		t.Fatalf("the model has no %q", good)
	}
	lineNo := strings.Count(string(src[:i]), "\n") + 1
	dir := t.TempDir()
	broken := strings.Replace(string(src), good, "{from: 2, below: 6, points: 102", 1) // a gap from 1 to 2
	if err := os.WriteFile(filepath.Join(dir, "scorecard-2026.1.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a gap in the selected model", map[string]string{"CREDO_MODELS_DIR": dir, "CREDO_MODEL": "2026.1"},
			fmt.Sprintf("scorecard-2026.1.yaml:%d:", lineNo)},
		{"an unknown version", map[string]string{"CREDO_MODEL": "2099.1"}, "2099.1"},
		{"a bad TTL", map[string]string{"CREDO_SCORE_TTL": "soon"}, "CREDO_SCORE_TTL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := testEnv(t, tt.env)
			env["CREDO_HTTP_ADDR"] = "127.0.0.1:0"
			_, err := credoCmd(t, env, "serve")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("serve: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// MustWithin waits until cond holds, checking every 20 ms, and fails after d.
func MustWithin(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestScoreRedisOutage: Redis killed while score requests flow: no request fails (scores are
// computed from Postgres), and the cache comes back by itself when Redis restarts.
func TestScoreRedisOutage(t *testing.T) {
	rp := redistest.MustStart(t)
	s := startServer(t, map[string]string{"REDIS_URL": rp.URL(), "CREDO_CACHE_L1_TTL": "0", "CREDO_REDIS_PROBE_INTERVAL": "100ms"})
	scoreLedger(t, s)
	redisUp := func() bool {
		return fmt.Sprint(s.expect(http.StatusOK, req{Method: "GET", Path: "/readyz"}).Map(t)["cache"]) == "map[mode:redis redis_up:true]"
	}
	if !redisUp() {
		t.Fatal("Redis is not up at the start")
	}

	var ok, failed atomic.Int64
	var firstFailure atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var stopOnce sync.Once
	stopLoad := func() { stopOnce.Do(func() { close(stop) }); wg.Wait() }
	defer stopLoad() // also when a phase fails
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := []string{"ACME", "BETA", "NEWCO", "ACME"}[w]
			for {
				select {
				case <-stop:
					return
				default:
				}
				hr, _ := http.NewRequest("GET", s.URL+"/v1/clients/"+client+"/score", nil)
				hr.Header.Set("Authorization", "Bearer "+s.Keys["sales"])
				resp, err := http.DefaultClient.Do(hr)
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprint(err, resp))
					continue
				}
				ok.Add(1)
			}
		}()
	}
	// Each phase lasts d and until 20 more requests were answered (a loaded machine is slow).
	phase := func(name string, d time.Duration) {
		t.Helper()
		before := ok.Load()
		time.Sleep(d)
		MustWithin(t, 20*time.Second, name+": 20 requests answered", func() bool { return ok.Load() >= before+20 })
	}
	phase("Redis up", 300*time.Millisecond)
	rp.Stop()
	phase("Redis killed", 300*time.Millisecond)
	MustWithin(t, 5*time.Second, "readyz reports Redis down", func() bool { return !redisUp() })
	phase("Redis down", 300*time.Millisecond)
	rp.Start()
	MustWithin(t, 5*time.Second, "the cache uses Redis again", redisUp)
	phase("Redis back", 300*time.Millisecond)
	stopLoad()
	if failed.Load() > 0 {
		t.Fatalf("%d of %d requests failed; first: %v", failed.Load(), failed.Load()+ok.Load(), firstFailure.Load())
	}

	// Back in use: a score is stored in the restarted Redis and read from it (L1 is off here).
	hits := func() float64 {
		body := string(s.expect(http.StatusOK, req{Method: "GET", Path: "/metrics"}).Body)
		m := regexp.MustCompile(`(?m)^credo_cache_lookups_total\{namespace="score",result="redis"\} (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	before := hits()
	s.score(t, "BETA", "")
	s.score(t, "BETA", "")
	if hits() <= before {
		t.Errorf("no score read from Redis after it came back (%v redis hits before, %v after)", before, hits())
	}
}
