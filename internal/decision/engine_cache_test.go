package decision

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/ledger"
)

// fullClient is a client state with every optional field set and every list holding an item, so
// that each leaf field of the client sections can be changed on its own.
func fullClient() *Input {
	in := baseInput()
	in.Client.IsNew = true
	in.Score.Reasons = []ScoreReason{{Code: "DBT", Text: "late", PointsLost: 3}}
	in.Metrics.Overdue = 12_00
	in.Metrics.MaxDaysOverdue = 5
	in.Solvency.Stale = true
	in.Solvency.RecommendedLimit = ptr(ledger.Money(1000_00))
	in.Solvency.Insolvency = Insolvency{Open: true, Kind: ptr("sauvegarde"), JudgmentDate: ptr(ledger.DateOf(2025, 1, 2))}
	in.Sanctions.Hits = []SanctionsHit{{EntryID: "1", List: "un", MatchedName: "X", Score: 0.5}}
	return in
}

// leafEdits lists, by path, a change to each leaf of v (a struct): strings, numbers and booleans
// change value, pointers become nil, lists lose their items; each edit is made on a fresh copy
// reached through get.
func leafEdits(t reflect.Type, path string, get func(*Input) reflect.Value) map[string]func(*Input) {
	out := map[string]func(*Input){}
	for i := range t.NumField() {
		f := t.Field(i)
		p := path + "." + f.Name
		field := func(in *Input) reflect.Value { return get(in).Field(i) }
		switch f.Type.Kind() {
		case reflect.Struct:
			for k, v := range leafEdits(f.Type, p, field) {
				out[k] = v
			}
		case reflect.Pointer:
			out[p+"=nil"] = func(in *Input) { field(in).SetZero() }
			elem := func(in *Input) reflect.Value { return field(in).Elem() }
			for k, v := range leafValueEdits(f.Type.Elem(), p, elem) {
				out[k] = v
			}
		case reflect.Slice:
			out[p+"=empty"] = func(in *Input) { field(in).SetZero() }
			item := func(in *Input) reflect.Value { return field(in).Index(0) }
			for k, v := range leafEdits(f.Type.Elem(), p+"[0]", item) {
				out[k] = v
			}
		default:
			for k, v := range leafValueEdits(f.Type, p, field) {
				out[k] = v
			}
		}
	}
	return out
}

func leafValueEdits(t reflect.Type, p string, get func(*Input) reflect.Value) map[string]func(*Input) {
	if t.Kind() == reflect.Struct {
		return leafEdits(t, p, get)
	}
	return map[string]func(*Input){p: func(in *Input) {
		v := get(in)
		switch v.Kind() {
		case reflect.String:
			v.SetString(v.String() + "x")
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Int, reflect.Int64, reflect.Int32:
			v.SetInt(v.Int() + 1)
		case reflect.Float64:
			v.SetFloat(v.Float() + 0.25)
		default:
			panic("no edit for " + p + " of kind " + v.Kind().String())
		}
	}}
}

// TestClientKeyCoversEveryField: changing any field of the client sections changes the key, so
// two inputs with one key have the same client sections and can share a residual; changing the
// request sections does not change it.
func TestClientKeyCoversEveryField(t *testing.T) {
	base := fullClient()
	baseKey := base.appendClientKey(nil)
	var edits map[string]func(*Input)
	edits = map[string]func(*Input){}
	for _, section := range []string{"Client", "Score", "Metrics", "Solvency", "Sanctions"} {
		sf, _ := reflect.TypeFor[Input]().FieldByName(section)
		get := func(in *Input) reflect.Value { return reflect.ValueOf(in).Elem().FieldByIndex(sf.Index) }
		for k, v := range leafEdits(sf.Type, section, get) {
			edits[k] = v
		}
	}
	if len(edits) < 40 {
		t.Fatalf("only %d edits: the walk misses fields", len(edits))
	}
	keys := map[string]string{string(baseKey): "base"}
	for path, edit := range edits {
		in := fullClient()
		// Lists and pointees are shared by the copies: give the edit its own.
		in.Score.Reasons = append([]ScoreReason(nil), in.Score.Reasons...)
		in.Sanctions.Hits = append([]SanctionsHit(nil), in.Sanctions.Hits...)
		edit(in)
		if in.Value().String() == base.Value().String() {
			t.Errorf("%s: the edit changes nothing the policy sees", path)
			continue
		}
		key := string(in.appendClientKey(nil))
		if other, dup := keys[key]; dup {
			t.Errorf("%s: same key as %s", path, other)
		}
		keys[key] = path
	}

	req := fullClient()
	req.Now, req.Today = req.Now.Add(time.Hour), req.Today+1
	req.Quote = Quote{QuoteID: "other", Amount: 1, Currency: "USD", RequestedTermsDays: 90, EndOfMonth: true, OpenOrdersAmount: 5}
	req.Exposure = Exposure{OpenAR: 3, Overdue: 1, Reserved: 2, OpenOrders: 5, Total: 10}
	if !bytes.Equal(req.appendClientKey(nil), baseKey) {
		t.Error("the request sections change the client key")
	}
}

func TestValueKeyIsExact(t *testing.T) {
	values := []string{`null`, `true`, `false`, `1`, `1.0`, `"1"`, `[]`, `{}`, `[1, 2]`, `[2, 1]`, `[[1], 2]`, `[1, [2]]`,
		`{"a": 1}`, `{"a": "1"}`, `{"a": 1, "b": 2}`, `{"ab": 1}`, `{"a": {"b": 1}}`, `["a", "b"]`, `["ab"]`, `{"a": null}`}
	seen := map[string]string{}
	for _, s := range values {
		v := ast.MustParseTerm(s).Value
		key := string(appendValueKey(nil, v))
		if other, dup := seen[key]; dup {
			t.Errorf("%s and %s share a key", s, other)
		}
		seen[key] = s
	}
	a := ast.MustParseTerm(`{"b": 2, "a": 1}`).Value
	b := ast.MustParseTerm(`{"a": 1, "b": 2}`).Value
	if !bytes.Equal(appendValueKey(nil, a), appendValueKey(nil, b)) {
		t.Error("key order changes the key")
	}
}

func TestStateCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newStateCache(2)
	made := 0
	known := func() [][2]*ast.Term { made++; return nil }
	a := c.get([]byte("a"), known)
	c.get([]byte("b"), known)
	if c.get([]byte("a"), known) != a || a.seen.Load() != 2 {
		t.Fatal("a was not kept")
	}
	c.get([]byte("c"), known) // evicts b, the least recently used
	if st := c.stats(); st.Entries != 2 || st.Evicted != 1 || made != 3 {
		t.Fatalf("stats %+v, made %d", st, made)
	}
	if c.get([]byte("a"), known) != a {
		t.Error("a was evicted instead of b")
	}
	if b := c.get([]byte("b"), known); b.seen.Load() != 1 || made != 4 {
		t.Errorf("b came back with %d sightings, made %d", b.seen.Load(), made)
	}
	// The list and the map agree after all that.
	n := 0
	for s := c.head; s != nil; s = s.next {
		if c.byKey[s.key] != s {
			t.Errorf("%s is in the list, not the map", s.key)
		}
		n++
	}
	if n != len(c.byKey) || c.tail.next != nil || c.head.prev != nil {
		t.Errorf("list of %d for a map of %d", n, len(c.byKey))
	}
}

// TestEvaluateBuildsInBackground: with the real, asynchronous builds, goroutines deciding for
// many clients get the whole policy's answers while residuals appear, one build at a time.
func TestEvaluateBuildsInBackground(t *testing.T) {
	modules, data := MustReadPolicies(t)
	e, err := Compile(context.Background(), modules, data, Options{EvalTimeout: 10 * time.Second, ResidualCacheSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	ref := MustCompileDefault(t)
	ctx := context.Background()
	clients := make([]*Input, 12)
	for i := range clients {
		clients[i] = fullClient()
		clients[i].Client.ClientID = fmt.Sprintf("C-%d", i)
		clients[i].Score.RiskClass = []RiskClass{ClassA, ClassB, ClassC, ClassD}[i%4]
		clients[i].Solvency.Insolvency = Insolvency{}
		clients[i].Sanctions = Sanctions{Status: SanctionsClear}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for g := range 4 {
		wg.Go(func() {
			for k := range 150 {
				// Six clients, then six others: a working set that fits, then evictions.
				in := *clients[(k/75)*6+(g+k)%6]
				in.Quote.Amount = ledger.Money(1 + k*100_00)
				want := ref.eval(ctx, ref.full, ast.NewTerm(in.Value()))
				if got := e.Evaluate(ctx, &in); !sameResult(got, want) {
					errs <- fmt.Sprintf("client %s: %+v, want %+v", in.Client.ClientID, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	st := e.ResidualStats()
	if st.Residual == 0 || st.Built == 0 || st.Entries > 8 || st.Evicted == 0 || st.Residual+st.Full != 600 {
		t.Errorf("stats %+v", st)
	}
}
