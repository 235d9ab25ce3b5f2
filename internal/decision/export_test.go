package decision

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// WriteExport reads page after page, writes every entry once, and says in the file when a page
// could not be read.
func TestWriteExportPages(t *testing.T) {
	pages := map[string]ExportPage{
		"":   {Entries: []LogEntry{entry("d1"), entry("d2")}, Next: "p2"},
		"p2": {Entries: []LogEntry{entry("d3")}, Next: "p3"},
		"p3": {Entries: []LogEntry{entry("d4")}},
	}
	var asked []string
	list := func(_ context.Context, f Filter) ([]LogEntry, string, error) {
		asked = append(asked, f.After)
		if f.Limit != 1000 {
			t.Errorf("page size %d", f.Limit)
		}
		p, ok := pages[f.After]
		if !ok {
			return nil, "", errors.New("the log is down")
		}
		return p.Entries, p.Next, nil
	}
	ids := func(out string) string {
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != strings.Join(ExportColumns, ",") {
			t.Fatalf("header %v", recs[0])
		}
		var got []string
		for _, r := range recs[1:] {
			got = append(got, r[0])
		}
		return strings.Join(got, " ")
	}

	var buf bytes.Buffer
	if err := WriteExport(context.Background(), &buf, list, Filter{}, nil); err != nil {
		t.Fatal(err)
	}
	if got := ids(buf.String()); got != "d1 d2 d3 d4" || fmt.Sprint(asked) != "[ p2 p3]" {
		t.Fatalf("rows %q, pages asked %q", got, asked)
	}

	// A first page the caller read is not read again.
	buf.Reset()
	asked = nil
	first := pages[""]
	if err := WriteExport(context.Background(), &buf, list, Filter{}, &first); err != nil {
		t.Fatal(err)
	}
	if got := ids(buf.String()); got != "d1 d2 d3 d4" || fmt.Sprint(asked) != "[p2 p3]" {
		t.Fatalf("rows %q, pages asked %q", got, asked)
	}

	// A page that cannot be read ends the file with a line saying so.
	delete(pages, "p3")
	buf.Reset()
	err := WriteExport(context.Background(), &buf, list, Filter{}, nil)
	if err == nil || !strings.HasSuffix(buf.String(), "# export interrupted: the log is down\n") {
		t.Fatalf("err %v, file %q", err, buf.String())
	}
}

func entry(id string) LogEntry {
	return LogEntry{Decision: Decision{DecisionID: id, Outcome: OutcomeApprove}}
}
