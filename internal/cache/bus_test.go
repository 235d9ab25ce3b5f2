package cache

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// inbox collects what a subscriber receives.
type inbox struct {
	mu   sync.Mutex
	msgs []Message
}

func (in *inbox) handle(m Message) {
	in.mu.Lock()
	in.msgs = append(in.msgs, m)
	in.mu.Unlock()
}

func (in *inbox) payloads() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	var out []string
	for _, m := range in.msgs {
		if !m.Gap {
			out = append(out, string(m.Payload))
		}
	}
	return out
}

func (in *inbox) gaps() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := 0
	for _, m := range in.msgs {
		if m.Gap {
			n++
		}
	}
	return n
}

func TestBusAcrossReplicas(t *testing.T) {
	a, b := MustReplicas(t)
	url := MustRedisURL(t)
	other := MustOpen(t, url, MustPrefix(t, url), testOptions()) // another deployment on the same Redis
	ctx := context.Background()
	var atA, atB, atOther, elsewhere inbox
	a.Bus().Subscribe("policy.activated", atA.handle)
	unsubscribe := b.Bus().Subscribe("policy.activated", atB.handle)
	b.Bus().Subscribe("keys.revoked", elsewhere.handle)
	other.Bus().Subscribe("policy.activated", atOther.handle)

	if err := a.Bus().Publish(ctx, "policy.activated", []byte(`{"version":7}`)); err != nil {
		t.Fatal(err)
	}
	MustEventually(t, 2*time.Second, "both replicas receive version 7", func() bool {
		return len(atA.payloads()) == 1 && len(atB.payloads()) == 1
	})
	if got := atB.payloads()[0]; got != `{"version":7}` {
		t.Errorf("B received %q", got)
	}

	unsubscribe()
	if err := a.Bus().Publish(ctx, "policy.activated", []byte(`{"version":8}`)); err != nil {
		t.Fatal(err)
	}
	MustEventually(t, 2*time.Second, "A receives version 8", func() bool { return len(atA.payloads()) == 2 })
	time.Sleep(100 * time.Millisecond) // time for a wrong delivery to show
	if got := atB.payloads(); len(got) != 1 {
		t.Errorf("B received %v after unsubscribing, want only version 7", got)
	}
	if got := elsewhere.payloads(); len(got) != 0 {
		t.Errorf("a subscriber of another topic received %v", got)
	}
	if got := atOther.payloads(); len(got) != 0 {
		t.Errorf("a cache under another prefix received %v", got)
	}
}

func TestBusInProcess(t *testing.T) {
	c := MustOpen(t, "", "", Options{})
	var in inbox
	c.Bus().Subscribe("policy.activated", in.handle)
	for _, p := range []string{"1", "2", "3"} {
		if err := c.Bus().Publish(context.Background(), "policy.activated", []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	MustEventually(t, time.Second, "three messages in order", func() bool { return len(in.payloads()) == 3 })
	if got := in.payloads(); got[0] != "1" || got[1] != "2" || got[2] != "3" {
		t.Errorf("received %v, want 1 2 3 in order", got)
	}
}

// A panicking handler is logged and the bus goes on delivering.
func TestBusHandlerPanic(t *testing.T) {
	var logs logBuffer
	c := MustOpen(t, "", "", Options{Log: logs.logger()})
	var in inbox
	c.Bus().Subscribe("t", func(Message) { panic("bad handler") })
	c.Bus().Subscribe("t", in.handle)
	c.Bus().Publish(context.Background(), "t", []byte("a"))
	c.Bus().Publish(context.Background(), "t", []byte("b"))
	MustEventually(t, time.Second, "the healthy handler gets both messages", func() bool { return len(in.payloads()) == 2 })
	if n := logs.count("bus handler panicked"); n != 2 {
		t.Errorf("%d panic log lines, want 2", n)
	}
}

func TestBusPublishErrors(t *testing.T) {
	c := MustOpen(t, "", "", Options{})
	if err := c.Bus().Publish(context.Background(), "", nil); err == nil {
		t.Error("Publish without a topic succeeded")
	}
	c.Close()
	if err := c.Bus().Publish(context.Background(), "t", nil); err == nil {
		t.Error("Publish after Close succeeded")
	}
}

// With Redis unreachable a message still reaches this replica, and the caller learns that
// it reached no other.
func TestBusPublishWithRedisDown(t *testing.T) {
	var logs logBuffer
	opts := testOptions()
	opts.Log = logs.logger()
	c := MustOpen(t, closedPortURL(t), "p:", opts)
	var in inbox
	c.Bus().Subscribe("policy.activated", in.handle)
	err := c.Bus().Publish(context.Background(), "policy.activated", []byte("v9"))
	if !errors.Is(err, ErrLocalOnly) {
		t.Fatalf("Publish with Redis down = %v, want ErrLocalOnly", err)
	}
	MustEventually(t, time.Second, "the local subscriber gets the message", func() bool { return len(in.payloads()) == 1 })
}
