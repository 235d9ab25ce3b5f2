package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// MustPrivateRedis starts a redis-server of the test's own, which it can kill; it skips the
// test when redis-server is not installed.
func MustPrivateRedis(t *testing.T) (url string, kill func()) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed: this test needs its own Redis to stop")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	done := false
	kill = func() {
		if !done {
			done = true
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}
	t.Cleanup(kill)
	rdb := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port), MaxRetries: -1})
	defer rdb.Close()
	for deadline := time.Now().Add(5 * time.Second); rdb.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the private redis-server does not answer")
		}
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port), kill
}

// servedWithin waits until s serves version, and says how long that took after since.
func (s *testServer) servedWithin(t *testing.T, version int, since time.Time, limit time.Duration) time.Duration {
	t.Helper()
	for {
		v := s.policy(t, "/v1/policies/active")
		if v.ServingVersion == version {
			ready := s.expect(http.StatusOK, req{Method: "GET", Path: "/readyz"}).Map(t)
			if ready["policy_version"] != float64(version) {
				t.Fatalf("/readyz says %v while the API says version %d is served", ready["policy_version"], version)
			}
			return time.Since(since)
		}
		if time.Since(since) > limit {
			t.Fatalf("the other replica still serves version %d %s after the activation of %d", v.ServingVersion, limit, version)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// MustActivatedDraft creates a draft from version 1 on s and activates it; it returns the
// version and when the activation was answered.
func MustActivatedDraft(t *testing.T, s *testServer) (int, time.Time) {
	t.Helper()
	var v policyVersion
	s.expect(http.StatusCreated, req{Method: "POST", Path: "/v1/policies", Key: s.Keys["credit_manager"],
		Body: map[string]any{"parent": 1, "modules": map[string]any{"large.rego": largeQuoteRule}}}).JSON(t, &v)
	s.expect(http.StatusOK, req{Method: "POST", Path: fmt.Sprintf("/v1/policies/%d/activate", v.Version), Key: s.Keys["admin"]})
	return v.Version, time.Now()
}

func TestPolicyActivationReachesTheOtherReplicaThroughRedis(t *testing.T) {
	if os.Getenv("REDIS_URL") == "" {
		t.Skip("REDIS_URL is not set: two replicas need Redis to talk")
	}
	// An hour between polls: only the bus can bring the activation in time.
	a := startServer(t, map[string]string{"CREDO_POLICY_POLL_INTERVAL": "1h"})
	b := startServerEnv(t, a.env, false)
	b.Keys = a.Keys
	b.servedWithin(t, 1, time.Now(), time.Second)
	version, at := MustActivatedDraft(t, a)
	took := b.servedWithin(t, version, at, 2*time.Second)
	t.Logf("the other replica served version %d %s after its activation", version, took)

	// The rollback travels the same way.
	a.expect(http.StatusOK, req{Method: "POST", Path: "/v1/policies/1/activate", Key: a.Keys["admin"]})
	b.servedWithin(t, 1, time.Now(), 2*time.Second)
}

func TestPolicyActivationReachesTheOtherReplicaWithRedisDown(t *testing.T) {
	url, kill := MustPrivateRedis(t)
	a := startServer(t, map[string]string{"REDIS_URL": url})
	b := startServerEnv(t, a.env, false)
	b.Keys = a.Keys
	kill()
	version, at := MustActivatedDraft(t, a)
	took := b.servedWithin(t, version, at, 10*time.Second)
	t.Logf("with Redis down, the other replica served version %d %s after its activation", version, took)
}
