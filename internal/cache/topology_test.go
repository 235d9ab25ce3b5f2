package cache

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/cache/redistest"
	"github.com/redis/go-redis/v9"
)

// MustRedisCluster starts a private three-node Redis Cluster (no replicas, no persistence) and
// answers its REDIS_URL, skipping the test when redis-server or redis-cli is not installed.
func MustRedisCluster(t *testing.T) string {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed: the cluster test starts its own cluster", bin)
		}
	}
	dir := t.TempDir()
	var addrs []string
	for range 3 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--cluster-enabled", "yes", "--cluster-config-file", fmt.Sprintf("nodes-%d.conf", port),
			"--save", "", "--appendonly", "no", "--loglevel", "warning")
		cmd.Dir, cmd.Stdout, cmd.Stderr = dir, io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatalf("start redis-server: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		MustEventually(t, 5*time.Second, "a cluster node answers", func() bool { return rdb.Ping(context.Background()).Err() == nil })
		_ = rdb.Close()
		addrs = append(addrs, addr)
	}
	out, err := exec.Command("redis-cli", append([]string{"--cluster", "create"}, append(addrs, "--cluster-replicas", "0", "--cluster-yes")...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		MustEventually(t, 10*time.Second, "the cluster is ok on "+addr, func() bool {
			info, err := rdb.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		})
		_ = rdb.Close()
	}
	return "redis://" + strings.Join(addrs, ",")
}

// The cluster path: pipelines split over nodes, pub/sub, the generation, across two replicas.
func TestRedisCluster(t *testing.T) {
	url := MustRedisCluster(t)
	opts := testOptions()
	opts.L1TTL = time.Minute
	a, b := MustOpen(t, url, "credo:", opts), MustOpen(t, url, "credo:", opts)
	if !a.cluster || !a.Up() {
		t.Fatalf("cluster client %v, up %v", a.cluster, a.Up())
	}
	ctx := context.Background()
	na, nb := a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)
	fa, fb := &counting{value: "A"}, &counting{value: "B"}
	ids := make([]string, 20) // spread over the three nodes' slots
	for i := range ids {
		ids[i] = fmt.Sprintf("C%d", i)
		na.GetOrCompute(ctx, ids[i], fa.compute)
		if v, _ := nb.GetOrCompute(ctx, ids[i], fb.compute); !strings.HasPrefix(string(v), "A#") {
			t.Fatalf("B answered %q for %s, want A's value from the cluster", v, ids[i])
		}
	}
	na.Invalidate(ctx, ids[:10]...)
	MustEventually(t, 2*time.Second, "B drops the invalidated copies", func() bool {
		for _, id := range ids[:10] {
			if inL1(nb, id) {
				return false
			}
		}
		return inL1(nb, ids[10])
	})
	if v, _ := nb.GetOrCompute(ctx, ids[0], fb.compute); !strings.HasPrefix(string(v), "B#") {
		t.Errorf("B after the invalidation = %q, want its own compute", v)
	}
	na.InvalidateAll(ctx)
	MustEventually(t, 2*time.Second, "B drops everything", func() bool { return nb.l1.len() == 0 })
	if _, ok := nb.Get(ctx, ids[15]); ok {
		t.Error("B reads a value from before InvalidateAll")
	}
	var in inbox
	b.Bus().Subscribe("policy.activated", in.handle)
	time.Sleep(50 * time.Millisecond)
	if err := a.Bus().Publish(ctx, "policy.activated", []byte("v3")); err != nil {
		t.Fatal(err)
	}
	MustEventually(t, 2*time.Second, "B receives the message", func() bool { return len(in.payloads()) == 1 })
	if metricValue(t, a.metrics.errors)+metricValue(t, b.metrics.errors) != 0 {
		t.Error("Redis errors against a healthy cluster")
	}
}

// MustSentinel starts a private Redis and one Sentinel watching it as master "credo", and
// answers the Sentinel REDIS_URL.
func MustSentinel(t *testing.T) string {
	t.Helper()
	master := redistest.MustStart(t) // skips when redis-server is not installed
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	conf := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor credo 127.0.0.1 %d 1\n", port, master.Port)
	if err := os.WriteFile(filepath.Join(dir, "sentinel.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", filepath.Join(dir, "sentinel.conf"), "--sentinel")
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sentinel: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := redis.NewSentinelClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	defer sc.Close()
	MustEventually(t, 5*time.Second, "the sentinel knows the master", func() bool {
		addr, err := sc.GetMasterAddrByName(context.Background(), "credo").Result()
		return err == nil && len(addr) == 2
	})
	return fmt.Sprintf("redis://127.0.0.1:%d/0?master=credo", port)
}

func TestRedisSentinel(t *testing.T) {
	url := MustSentinel(t)
	opts := testOptions()
	opts.L1TTL = time.Minute
	a, b := MustOpen(t, url, "credo:", opts), MustOpen(t, url, "credo:", opts)
	if !a.Up() || !b.Up() {
		t.Fatal("Redis through Sentinel is not up")
	}
	ctx := context.Background()
	na, nb := a.Namespace("score", time.Hour), b.Namespace("score", time.Hour)
	fa, fb := &counting{value: "A"}, &counting{value: "B"}
	na.GetOrCompute(ctx, "C1", fa.compute)
	if v, _ := nb.GetOrCompute(ctx, "C1", fb.compute); string(v) != "A#1" {
		t.Fatalf("B answered %q, want A's value through the master", v)
	}
	na.Invalidate(ctx, "C1")
	MustEventually(t, 2*time.Second, "B drops C1", func() bool { return !inL1(nb, "C1") })
	if v, _ := nb.GetOrCompute(ctx, "C1", fb.compute); string(v) != "B#1" {
		t.Errorf("B after the invalidation = %q, want B#1", v)
	}
}
