package cache

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MustRedisURL answers REDIS_URL (default redis://127.0.0.1:6379/0), skipping the test when
// that Redis does not answer.
func MustRedisURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	rdb := MustRawClient(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Skipf("Redis at REDIS_URL (%s) does not answer (%v): start it with `eval \"$(deploy/local/services.sh)\"`", redactedURL(url), err)
	}
	return url
}

func redactedURL(url string) string {
	if i := strings.LastIndex(url, "@"); i >= 0 {
		return "redis://…" + url[i:]
	}
	return url
}

// MustRawClient is a plain go-redis client for the test to look at or tamper with keys.
func MustRawClient(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	o, err := ParseURL(url)
	if err != nil {
		t.Fatalf("ParseURL: %v", err)
	}
	o.MaxRetries = -1
	rdb := redis.NewUniversalClient(o)
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

var prefixSeq atomic.Int64

// MustPrefix answers a key prefix unique to this test and deletes its keys when it ends.
func MustPrefix(t testing.TB, url string) string {
	t.Helper()
	name := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	prefix := fmt.Sprintf("credotest:%s:%d.%d:", name, time.Now().UnixNano(), prefixSeq.Add(1))
	t.Cleanup(func() {
		o, err := ParseURL(url)
		if err != nil {
			return
		}
		rdb := redis.NewUniversalClient(o)
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

// testOptions are fast-reacting options for tests.
func testOptions() Options {
	return Options{ProbeInterval: 50 * time.Millisecond, DialTimeout: 100 * time.Millisecond, Timeout: 100 * time.Millisecond}
}

// MustOpen opens a cache closed at the end of the test.
func MustOpen(t testing.TB, url, prefix string, opts Options) *Cache {
	t.Helper()
	c, err := Open(url, prefix, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// MustEventually waits up to timeout for cond, failing the test with what when it never holds.
func MustEventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logBuffer collects log lines from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(substr string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), substr)
}

func (b *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(b, nil)) }

// counting is a compute function that counts its calls and answers value#call.
type counting struct {
	value string
	calls atomic.Int64
}

func (c *counting) compute(context.Context) ([]byte, error) {
	n := c.calls.Add(1)
	return []byte(c.value + "#" + strconv.FormatInt(n, 10)), nil
}

// proxy forwards TCP to a target; stopping it cuts one replica off Redis while others keep it.
type proxy struct {
	t      testing.TB
	target string
	addr   string

	stalled atomic.Bool // bytes are held, as by a Redis that stopped answering

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
}

// MustProxy starts a proxy to target (host:port) on a free local port.
func MustProxy(t testing.TB, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0", conns: make(map[net.Conn]struct{})}
	p.start()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.stop)
	return p
}

func (p *proxy) url() string { return "redis://" + p.addr + "/0" }

func (p *proxy) start() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			go p.pipe(out, in)
			go p.pipe(in, out)
		}
	}()
}

// pipe copies src to dst, holding the bytes while the proxy is stalled.
func (p *proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		for n > 0 && p.stalled.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// stop refuses new connections and cuts the open ones.
func (p *proxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}
