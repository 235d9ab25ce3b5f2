package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/policies"
)

// memStore is a Store in memory, with the Postgres store's rules (tested against Postgres in
// internal/postgres), and counters and failures for the tests.
type memStore struct {
	mu       sync.Mutex
	versions []Version
	audit    []string
	gets     atomic.Int64
	down     atomic.Bool // every call fails as an unreachable database would
}

var errDown = &fault.Error{Code: fault.Unavailable, Message: "the database is not reachable"}

func (m *memStore) Bootstrap(_ context.Context, v Version) (bool, error) {
	if m.down.Load() {
		return false, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.versions) > 0 {
		return false, nil
	}
	now := time.Now()
	v.Version, v.Status, v.CreatedAt, v.ActivatedAt, v.ActivatedBy = 1, StatusActive, now, &now, v.Author
	m.versions = append(m.versions, v)
	m.audit = append(m.audit, v.Author+" policy.bootstrap 1")
	return true, nil
}

func (m *memStore) Create(_ context.Context, v Version) (Version, error) {
	if m.down.Load() {
		return Version{}, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v.Version, v.Status, v.CreatedAt = len(m.versions)+1, StatusDraft, time.Now()
	v.Modules = maps.Clone(v.Modules)
	m.versions = append(m.versions, v)
	m.audit = append(m.audit, fmt.Sprintf("%s policy.create %d", v.Author, v.Version))
	return v, nil
}

func (m *memStore) Get(_ context.Context, n int) (Version, error) {
	m.gets.Add(1)
	if m.down.Load() {
		return Version{}, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if n < 1 || n > len(m.versions) {
		return Version{}, fault.Errorf(fault.NotFound, "policy version %d not found", n)
	}
	v := m.versions[n-1]
	v.Modules = maps.Clone(v.Modules)
	return v, nil
}

func (m *memStore) List(_ context.Context, f ListFilter) ([]Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Version
	for _, v := range slices.Backward(m.versions) {
		if (f.Status == "" || v.Status == f.Status) && (f.Before == 0 || v.Version < f.Before) && len(out) < f.Limit {
			v.Modules, v.Data = nil, nil
			out = append(out, v)
		}
	}
	return out, nil
}

func (m *memStore) ActiveRef(context.Context) (Ref, error) {
	if m.down.Load() {
		return Ref{}, errDown
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, v := range m.versions {
		if v.Status == StatusActive {
			return Ref{Version: v.Version, Hash: v.Hash}, nil
		}
	}
	return Ref{}, nil
}

func (m *memStore) Activate(_ context.Context, a Activation) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a.Version < 1 || a.Version > len(m.versions) {
		return 0, fault.Errorf(fault.NotFound, "policy version %d not found", a.Version)
	}
	if m.versions[a.Version-1].Status == StatusActive {
		return 0, fault.Errorf(fault.Conflict, "policy version %d is already active", a.Version)
	}
	prev := 0
	for i := range m.versions {
		if m.versions[i].Status == StatusActive {
			m.versions[i].Status, prev = StatusRetired, m.versions[i].Version
		}
	}
	now := time.Now()
	v := &m.versions[a.Version-1]
	v.Status, v.ActivatedAt, v.ActivatedBy = StatusActive, &now, a.Actor
	m.audit = append(m.audit, fmt.Sprintf("%s policy.activate %d", a.Actor, a.Version))
	return prev, nil
}

func (m *memStore) Audit(_ context.Context, actor, action string, version int, _ any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.audit = append(m.audit, fmt.Sprintf("%s %s %d", actor, action, version))
	return nil
}

func (m *memStore) auditLog() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.audit)
}

// MustEmbedded reads the embedded policy's modules and data.
func MustEmbedded(t testing.TB) (map[string]string, []byte) {
	t.Helper()
	modules, data, err := decision.ReadSource(policies.FS)
	if err != nil {
		t.Fatal(err)
	}
	return modules, data
}

// MustStore is a memStore holding the embedded policy as version 1, active.
func MustStore(t testing.TB) *memStore {
	t.Helper()
	m := &memStore{}
	if created, err := Bootstrap(context.Background(), m, policies.FS); err != nil || !created {
		t.Fatalf("bootstrap: %v, %v", created, err)
	}
	return m
}

// recordingBus is an in-process Bus that records what was published and can fail.
type recordingBus struct {
	mu        sync.Mutex
	handlers  []func([]byte, bool)
	published [][]byte
	fail      error
}

func (b *recordingBus) Publish(_ context.Context, _ string, payload []byte) error {
	b.mu.Lock()
	b.published = append(b.published, payload)
	hs, fail := slices.Clone(b.handlers), b.fail
	b.mu.Unlock()
	if fail != nil {
		return fail
	}
	for _, h := range hs {
		h(payload, false)
	}
	return nil
}

func (b *recordingBus) Subscribe(_ string, fn func([]byte, bool)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.handlers = append(b.handlers, fn)
	return func() {}
}

func (b *recordingBus) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.published)
}

var errBusDown = errors.New("redis unavailable")
