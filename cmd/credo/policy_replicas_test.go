package main

import (
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/cache/redistest"
)

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
	rp := redistest.MustStart(t)
	url := rp.URL()
	a := startServer(t, map[string]string{"REDIS_URL": url})
	b := startServerEnv(t, a.env, false)
	b.Keys = a.Keys
	rp.Stop()
	version, at := MustActivatedDraft(t, a)
	took := b.servedWithin(t, version, at, 10*time.Second)
	t.Logf("with Redis down, the other replica served version %d %s after its activation", version, took)
}
