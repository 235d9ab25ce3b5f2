package decision_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/policy/policytest"
	"github.com/credorisk/credo/policies"
)

// replayDocs are n logged input documents of the replay benchmark's portfolio
// (internal/postgres, BenchmarkPolicyReplay), one every 25 s from 2026-01-01.
func replayDocs(tb testing.TB, n int) [][]byte {
	tb.Helper()
	pf := policytest.NewPortfolio(1)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	docs := make([][]byte, n)
	for i := range docs {
		in := pf.Input(i, start.Add(time.Duration(i)*25*time.Second))
		b, err := json.Marshal(in)
		if err != nil {
			tb.Fatal(err)
		}
		docs[i] = b
	}
	return docs
}

// MustReplayEngine compiles the default policy as a replay does: no pre-evaluation.
func MustReplayEngine(tb testing.TB) *decision.Engine {
	tb.Helper()
	modules, data, err := decision.ReadSource(policies.FS)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := decision.Compile(context.Background(), modules, data,
		decision.Options{EvalTimeout: 10 * time.Second, ResidualCacheSize: -1})
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplayDocuments is the replay's work per logged document: EvaluateJSON by full
// evaluation of realistic documents of 2,000 clients, in log order. With -cpu 2 it runs on two
// goroutines, as a replay on this machine does. cpu-µs/op is the process CPU per document,
// garbage collection included: what 100,000 documents cost on two cores is 100,000 times it / 2.
func BenchmarkReplayDocuments(b *testing.B) {
	docs := replayDocs(b, 4000)
	e := MustReplayEngine(b)
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := e.EvaluateJSON(ctx, docs[int(next.Add(1))%len(docs)]); r.Err != nil {
				b.Error(r.Err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}
